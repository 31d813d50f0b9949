"""The service app's models live in its parts; Django finds them through these imports."""
from kehu.service.chain.models import *  # noqa: E402,F401,F403
from kehu.service.knowledge.models import *  # noqa: E402,F401,F403
from kehu.service.sla.models import *  # noqa: E402,F401,F403
from kehu.service.surveys.models import *  # noqa: E402,F401,F403
from kehu.service.tickets.models import *  # noqa: E402,F401,F403
