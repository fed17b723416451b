"""Sync configuration, edited by admins in the console: the connections and the table mappings."""

from datetime import timedelta

from django.core.validators import RegexValidator
from django.db import models

from sync import conf


class LogicalTable(models.TextChoices):
    PROJET = "projet", "projet"
    FORMATION = "formation", "formation"
    BLOC = "bloc", "bloc"
    INTERVENTION = "intervention", "intervention"
    ATTRIBUTION = "attribution", "attribution"
    PERSONNE = "personne", "personne"
    CLIENT = "client", "client"
    COMPTES_RENDUS = "comptes_rendus", "comptes_rendus"


def secret_variable_validator(kind: str) -> RegexValidator:
    pattern = conf.SECRET_VARIABLE_PATTERNS[kind]
    return RegexValidator(f"^{pattern}$", f"Name a variable matching {pattern} (a connection may not read other "
                          "secrets of the process).")


class BaserowConnection(models.Model):
    """The Baserow instance (one row). Secrets stay in the environment, named here."""

    key = models.CharField(max_length=20, default="default", unique=True, editable=False)
    url = models.URLField(help_text="Base URL, e.g. https://baserow.example.org (no /api).")
    token_env_var = models.CharField(
        validators=[secret_variable_validator("baserow_token")],
        max_length=100, default="BASEROW_DATABASE_TOKEN",
        help_text="Environment variable holding the database token (rows API, 'Authorization: Token').",
    )
    admin_email = models.EmailField(
        blank=True, help_text="Optional admin account, for webhook management (JWT); leave empty to skip."
    )
    admin_password_env_var = models.CharField(
        validators=[secret_variable_validator("baserow_password")],
        max_length=100, default="BASEROW_ADMIN_PASSWORD", blank=True,
        help_text="Environment variable holding the admin account's password.",
    )
    send_webhook_events_on_write = models.BooleanField(
        default=False,
        help_text="Whether the bridge's own writes fire Baserow webhooks (off: the built-in loop breaker).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Baserow connection"

    def __str__(self):
        return f"Baserow at {self.url}"

    @property
    def api_url(self) -> str:
        return self.url.rstrip("/")

    def token(self) -> str:
        return conf.secret_from_env(self.token_env_var, kind="baserow_token")

    def admin_password(self) -> str:
        return conf.secret_from_env(self.admin_password_env_var, kind="baserow_password")


class DocmostConnection(models.Model):
    """The Docmost instance (one row) and the space the bridge writes into."""

    key = models.CharField(max_length=20, default="default", unique=True, editable=False)
    url = models.URLField(help_text="Base URL, e.g. https://wiki.example.org (no /api).")
    api_key_env_var = models.CharField(
        validators=[secret_variable_validator("docmost_api_key")],
        max_length=100, default="DOCMOST_API_KEY", blank=True,
        help_text="Environment variable holding an API key (Enterprise edition); used first when set.",
    )
    bot_email = models.EmailField(blank=True, help_text="Bot account used through /api/auth/login.")
    bot_password_env_var = models.CharField(
        validators=[secret_variable_validator("docmost_password")],
        max_length=100, default="DOCMOST_BOT_PASSWORD", blank=True,
        help_text="Environment variable holding the bot account's password.",
    )
    space_slug = models.CharField(max_length=100, help_text="Target space, e.g. 'agence'.")
    space_id = models.CharField(
        max_length=64, blank=True, help_text="The space's UUID; filled in from the slug when empty."
    )
    formation_space_slug = models.CharField(
        max_length=100, blank=True, help_text="Space of the course pages (formation); empty: the target space."
    )
    project_template_page_id = models.CharField(
        max_length=64, blank=True,
        help_text="Page whose body new project pages copy ({{nom}} and {{client}} are filled in); empty: none.",
    )
    formation_template_page_id = models.CharField(
        max_length=64, blank=True,
        help_text="Page whose body new course pages copy ({{nom}} is filled in); empty: none.",
    )
    compte_rendu_parent_page_id = models.CharField(
        max_length=64, blank=True, help_text="A page created under this page is a compte-rendu.",
    )
    compte_rendu_title_prefix = models.CharField(
        max_length=100, blank=True, default="Compte rendu - ",
        help_text="A page whose title starts with this is a compte-rendu (empty: only the parent page counts).",
    )
    status_icons = models.JSONField(
        default=dict, blank=True,
        help_text='Page icon per Baserow status, e.g. {"En cours": "🟢"}; a status not listed keeps no icon.',
    )
    archive_title_prefix = models.CharField(
        max_length=40, default="[Archivé] ",
        help_text="Put before the title of a page whose row was deleted in Baserow (the page is never deleted).",
    )
    archive_icon = models.CharField(max_length=8, default="🗄️", help_text="Icon of an archived page.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Docmost connection"

    def __str__(self):
        return f"Docmost at {self.url} (space {self.space_slug})"

    def page_web_url(self, slug_id: str, *, formation: bool = False) -> str:
        """The page in Docmost's web app (`/s/<space>/p/<slugId>`: Docmost reads the slugId after the last dash)."""
        space = (self.formation_space_slug if formation else "") or self.space_slug
        return f"{self.url.rstrip('/')}/s/{space}/p/{slug_id}"

    @property
    def api_url(self) -> str:
        return self.url.rstrip("/")

    def api_key(self) -> str:
        return conf.secret_from_env(self.api_key_env_var, kind="docmost_api_key")

    def bot_password(self) -> str:
        return conf.secret_from_env(self.bot_password_env_var, kind="docmost_password")


def _default_silence():
    return timedelta(hours=conf.table_silence_hours())


class TableMapping(models.Model):
    """A Baserow table the bridge knows, the logical table it plays, and its field names."""

    baserow_table_id = models.PositiveIntegerField(unique=True)
    logical_table = models.CharField(max_length=20, choices=LogicalTable.choices, unique=True)
    fields = models.JSONField(
        default=dict, blank=True,
        help_text='Field names the rules use, logical name -> Baserow field name, e.g. {"nom": "Nom"}.',
    )
    enabled = models.BooleanField(default=True, help_text="When off, deliveries are stored and ignored.")
    silence_alert_after = models.DurationField(
        default=_default_silence, help_text="Flag the table when no delivery arrived for this long."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_table"]

    def __str__(self):
        return f"{self.logical_table} (Baserow table {self.baserow_table_id})"

    def field_name(self, logical_name: str) -> str:
        """The Baserow field name for a logical name (the logical name itself when not mapped)."""
        return self.fields.get(logical_name, logical_name)
