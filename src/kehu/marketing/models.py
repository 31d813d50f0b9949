"""The marketing app's models live in its parts; Django finds them through these imports."""
from kehu.marketing.campaigns.models import *  # noqa: E402, F403
from kehu.marketing.consent.models import *  # noqa: E402,F401,F403
from kehu.marketing.offers.models import *  # noqa: E402,F401,F403
from kehu.marketing.referrals.models import *  # noqa: E402,F401,F403
