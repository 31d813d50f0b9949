"""gunicorn's settings for kehu-web.service: kehu.wsgi on the loopback only, behind the
HTTPS proxy, which also serves /static/ itself. See docs/operations.md."""

import os

# The proxy's upstream; never a public interface.
bind = "127.0.0.1:8000"
# Processes serving requests: two or three per core is plenty for a firm's users.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Large exports are written while the request waits.
timeout = 300
graceful_timeout = 30
# X-Forwarded-Proto is believed from the proxy on this host only.
forwarded_allow_ips = "127.0.0.1,::1"
# To the journal (journalctl -u kehu-web).
accesslog = "-"
errorlog = "-"
