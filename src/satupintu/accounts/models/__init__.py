from satupintu.accounts.models.org import Client, ContactCenter, Site, Skill, Team
from satupintu.accounts.models.sessions import UserSession
from satupintu.accounts.models.tokens import PersonalAccessToken
from satupintu.accounts.models.users import AgentSkill, User

__all__ = [
    "AgentSkill",
    "Client",
    "ContactCenter",
    "PersonalAccessToken",
    "Site",
    "Skill",
    "Team",
    "User",
    "UserSession",
]
