"""The service app's models live in its parts; Django finds them through these imports."""
