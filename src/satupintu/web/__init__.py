"""The web shell: layout, navigation by role, home pages, and request-wide safety rules."""
