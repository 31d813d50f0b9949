"""Consent per customer or contact and channel, with its history; refusal of automated
marketing and of personalisation; and the one service every marketing e-mail goes through
(kehu.marketing.consent.sending), which checks consent at the moment of sending, adds a
signed unsubscribe link and records each send."""
