"""People and organisation: the contact center, its sites, clients, teams, users and roles."""
