"""Demo deviations per client: pending, escalated, approved (with changes), rejected,
after the fact, and a cluster taken into a published revision (incorporated). Everything
goes through the deviation services, so notes land on the cases and the audit trail."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from satupintu.accounts.models import Client, User
from satupintu.accounts.roles import Role
from satupintu.cases.models import ACTIVE_STATUSES, Case
from satupintu.knowledge import queries
from satupintu.knowledge.models import OPEN_STATUSES, Article, ArticleVersion, Kind
from satupintu.knowledge.services import articles, deviations

CLUSTER = [
    "Kirim kartu pengganti ke alamat sementara nasabah karena nasabah sedang di luar kota",
    "Kartu pengganti dikirim ke alamat sementara, nasabah sedang di luar kota",
]
OTHERS = [
    ("not_covered", "Hubungi balik nasabah lewat WhatsApp karena telepon nasabah rusak"),
    ("unclear", "Lewati verifikasi ulang karena nasabah sudah diverifikasi di chat sebelumnya"),
    ("harms", "Tunda pemblokiran sampai nasabah selesai transaksi darurat di rumah sakit"),
    ("not_covered", "Beri kompensasi pulsa karena gangguan berulang tiga kali"),
]


def _current_sops(client: Client) -> list[ArticleVersion]:
    rows = Article.objects.filter(client=client, kind=Kind.SOP, retired_at__isnull=True)
    found = queries.current_versions(rows)
    out = {}
    for (article_id, language), version in sorted(found.items()):
        if version.steps and len(version.steps) >= 2 and (language == "id"
                                                          or article_id not in out):
            out[article_id] = version
    return [out[k] for k in sorted(out)]


def _deciders(client: Client) -> list[User]:
    return list(User.objects.filter(clients=client, is_active=True,
                                    role__in=(Role.SUPERVISOR, Role.TEAM_LEADER))
                .order_by("username"))


def build(seed: int) -> None:
    manager = User.objects.get(username="manager")
    qa = User.objects.get(username="qa")
    for client in Client.objects.order_by("code"):
        sops = _current_sops(client)
        cases = list(Case.objects.filter(client=client, status__in=ACTIVE_STATUSES)
                     .filter(Q(assignee__role=Role.AGENT))
                     .select_related("assignee").order_by("created_at")[:8])
        decider = (_deciders(client) or [manager])[0]
        if not sops or len(cases) < 6:
            continue
        # A cluster of two similar approved deviations on one SOP, taken into a revision
        # that is published: both end up incorporated.
        target = next((v for v in sops if not v.article.versions.filter(
            language=v.language, status__in=OPEN_STATUSES).exists()), None)
        if target is not None and qa.clients.filter(pk=client.pk).exists():
            linked = []
            for case, text in zip(cases[:2], CLUSTER, strict=True):
                d = deviations.request_deviation(case, version=target, step=1, proposal=text,
                                                 reason="not_covered", by=case.assignee)
                linked.append(deviations.decide(d, "approved", by=decider))
            draft = deviations.create_revision(linked, by=qa)
            steps = list(draft.steps)
            steps[0] = {**steps[0], "text": steps[0]["text"] + " Jika nasabah di luar kota, "
                        "kirim kartu pengganti ke alamat sementara yang sudah diverifikasi."}
            articles.edit_draft(draft, by=qa, steps=steps)
            articles.submit(draft, by=qa)
            articles.approve(draft, by=manager, note="Dari tinjauan deviasi.")
            articles.publish(draft, by=qa)
            sops = _current_sops(client)
        sop = sops[-1]
        now = timezone.now()
        pending, escalated, approved, rejected, post_hoc, changes = (
            cases[2], cases[3], cases[4], cases[5], cases[6 % len(cases)],
            cases[7 % len(cases)])
        reason, text = OTHERS[0]
        deviations.request_deviation(pending, version=sop, step=2, proposal=text,
                                     reason=reason, by=pending.assignee)
        reason, text = OTHERS[1]
        deviations.request_deviation(escalated, version=sop, step=1, proposal=text,
                                     reason=reason, by=escalated.assignee,
                                     now=now - timedelta(minutes=12))
        deviations.escalate_overdue(now)
        reason, text = OTHERS[3]
        d = deviations.request_deviation(approved, version=sop, step=2, proposal=text,
                                         reason=reason, by=approved.assignee)
        deviations.decide(d, "approved", by=decider)
        reason, text = OTHERS[2]
        d = deviations.request_deviation(rejected, version=sop, step=1, proposal=text,
                                         reason=reason, by=rejected.assignee)
        deviations.decide(d, "rejected", by=decider,
                          note="Risiko penipuan: blokir dulu, transaksi darurat lewat cabang.")
        d = deviations.request_deviation(
            post_hoc, version=sop, step=2, post_hoc=True, by=post_hoc.assignee,
            proposal="Sudah mengirim SMS konfirmasi manual karena sistem SMS otomatis mati",
            reason="not_covered", justification="Nasabah panik, sistem SMS sedang gangguan")
        d = deviations.request_deviation(
            changes, version=sop, step=1, by=changes.assignee, reason="unclear",
            proposal="Verifikasi dengan tanggal lahir saja karena nasabah lupa nama ibu kandung")
        deviations.decide(d, "approved_changes", by=decider,
                          changes="Tambahkan verifikasi nomor kartu 4 digit terakhir.")
