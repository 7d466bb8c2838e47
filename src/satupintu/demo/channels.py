"""Demo contacts on every channel, each through its real processor: e-mail (one threaded
reply, one in Windows-1252), WhatsApp conversations and calls, web chats, a web form."""

from __future__ import annotations

from satupintu.demo.mail import build_mail
from satupintu.demo.portal import build_portal
from satupintu.demo.webchat import build_webchat
from satupintu.demo.whatsapp_calls import build_whatsapp_calls


def build(seed: int) -> None:
    build_mail(seed)
    build_whatsapp_calls(seed)
    build_webchat(seed)
    build_portal(seed)
