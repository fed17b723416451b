"""The incidents part of the ops console, by area. Django's admin autodiscovery imports this package;
importing the modules registers their pages."""

from incidents.admin import alerts, incidents, oncall, postmortems, restores  # noqa: F401
