"""Flask extensions, created once here and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

csrf = CSRFProtect()

# No default limits: the API declares its own (per token, and per IP for failed authentication).
# The storage comes from RATELIMIT_STORAGE_URI (FORUM_RATELIMIT_STORAGE_URI), memory by default.
limiter = Limiter(key_func=get_remote_address)
