"""One-to-one offers (一对一营销, DOMAIN.md §8): a personalised offer list (个性化购物清单) every
few weeks for the customers who spend enough — what they are due to buy again by their own
rhythm and what customers like them buy that they do not, at current prices — with a coupon
(优惠券) whose size follows their loyalty, printed or exported, and redeemed
against a transaction."""
