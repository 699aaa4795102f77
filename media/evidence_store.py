"""Written evidence of a reported call: each participant's window (``media.evidence``) turned
into files and sealed with the data keys, one ``CallEvidence`` row per piece.

- audio: the Opus packets as received, in an Ogg container (``media.ogg``; no re-encoding);
- video: each kept keyframe decoded (PyAV's VP8 decoder) and written as a JPEG.
Each piece is sealed with AES-GCM (``kernel.crypto.Sealer.seal_bytes``), bound to its row id,
report and subject, so a blob copied onto another row does not open.  Evidence is kept
``retention_days`` (30) and after that until its report is decided (an open case keeps it);
``sweep`` deletes what has expired.  Account deletion deletes the person's own media
(``privacy``).  Building the files is CPU work: it runs in a thread.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import av
import structlog
from sqlalchemy import select

from kernel.clock import Clock
from kernel.crypto import Sealer, SealError
from kernel.errors import DomainError
from media import ogg
from media.evidence import Snapshot
from store import Database
from store.models import Report
from store.models.evidence import CallEvidence
from store.sweep import delete_in_batches

log = structlog.get_logger(__name__)

CONTENT_TYPES = {"audio": "audio/ogg", "keyframe": "image/jpeg"}
JPEG_QUALITY = 85
#: rows deleted per statement by the sweep
SWEEP_BATCH = 500


class EvidenceNotFound(DomainError):
    code = "evidence_not_found"
    status = 404
    default_message = "no such evidence (it may have expired)"


class EvidenceUnreadable(DomainError):
    code = "evidence_unreadable"
    status = 409
    default_message = "this evidence cannot be opened with the configured data keys"


@dataclass(frozen=True, slots=True)
class Piece:
    """One file of evidence before sealing."""

    subject_id: str
    kind: str  # audio | keyframe
    seq: int
    offset_ms: int  # how long before the window was taken it starts
    duration_ms: int
    packets: int
    data: bytes


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    id: str
    report_id: str
    call_id: str
    subject_id: str
    kind: str
    content_type: str
    seq: int
    offset_ms: int
    duration_ms: int
    packets: int
    size_bytes: int
    created_at: datetime
    expires_at: datetime


def build(snapshots: list[Snapshot]) -> list[Piece]:
    """The files of each participant's window (CPU-bound: call it in a thread)."""
    pieces: list[Piece] = []
    for snap in snapshots:
        if snap.audio:
            first = snap.audio[0]
            data, written, duration = ogg.write(
                ((p.rtp_timestamp, p.payload) for p in snap.audio),
                comments=("TITLE=peiliao call evidence",),
            )
            if written:
                pieces.append(
                    Piece(
                        snap.user_id,
                        "audio",
                        0,
                        max(int((snap.captured_s - first.arrival_s) * 1000), 0),
                        duration * 1000 // ogg.RATE_HZ,
                        written,
                        data,
                    )
                )
        seq = 0
        for frame in snap.keyframes:
            jpeg = _jpeg(frame.codec, frame.data)
            if jpeg is None:
                continue
            seq += 1
            offset = max(int((snap.captured_s - frame.arrival_s) * 1000), 0)
            pieces.append(Piece(snap.user_id, "keyframe", seq, offset, 0, 1, jpeg))
    return pieces


def _jpeg(codec: str, frame: bytes) -> bytes | None:
    """A keyframe decoded and written as a JPEG; None if it does not decode."""
    try:
        decoder: Any = av.CodecContext.create(codec, "r")
        decoded = decoder.decode(av.Packet(frame))
        if not decoded:
            return None
        image = decoded[-1].to_image()
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
        return out.getvalue()
    except (av.error.FFmpegError, ValueError, OSError):
        return None


def _context(row_id: str, report_id: str, subject_id: str, kind: str) -> str:
    return f"call_evidence:{row_id}:{report_id}:{subject_id}:{kind}"


class EvidenceStore:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer, retention_days: int) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer
        self._retention = timedelta(days=retention_days)

    async def keep(self, report_id: str, call_id: str, snapshots: list[Snapshot] | None) -> str:
        """Write the evidence of ``report_id`` from these windows; the outcome: ``kept``, or
        ``nothing_kept`` (no media in the window).  Once per report: a resent report finds
        its evidence written."""
        async with self._db.reading() as s:
            done = await s.scalar(
                select(CallEvidence.id).where(CallEvidence.report_id == report_id).limit(1)
            )
        if done is not None:
            return "kept"
        if not snapshots:
            return "nothing_kept"
        pieces = await asyncio.to_thread(build, snapshots)
        if not pieces:
            return "nothing_kept"
        now = self._clock.now()
        ids = ["evd_" + secrets.token_hex(12) for _ in pieces]
        sealed = await asyncio.to_thread(
            lambda: [
                self._sealer.seal_bytes(p.data, _context(i, report_id, p.subject_id, p.kind))
                for i, p in zip(ids, pieces, strict=True)
            ]
        )
        async with self._db.writing() as s:
            for row_id, piece, blob in zip(ids, pieces, sealed, strict=True):
                s.add(
                    CallEvidence(
                        id=row_id,
                        report_id=report_id,
                        call_id=call_id,
                        subject_id=piece.subject_id,
                        kind=piece.kind,
                        seq=piece.seq,
                        offset_ms=piece.offset_ms,
                        duration_ms=piece.duration_ms,
                        packets=piece.packets,
                        size_bytes=len(piece.data),
                        sealed=blob,
                        created_at=now,
                        expires_at=now + self._retention,
                    )
                )
        log.info("call_evidence_kept", report_id=report_id, call_id=call_id, pieces=len(pieces))
        return "kept"

    async def of_report(self, report_id: str) -> list[EvidenceItem] | None:
        """The pieces of ``report_id``'s evidence (None: no such report)."""
        async with self._db.reading() as s:
            if await s.get(Report, report_id) is None:
                return None
            rows = (
                await s.execute(
                    select(*_META)
                    .where(CallEvidence.report_id == report_id)
                    .order_by(CallEvidence.subject_id, CallEvidence.kind, CallEvidence.seq)
                )
            ).all()
        return [_item(**dict(row._mapping)) for row in rows]

    async def open(self, evidence_id: str) -> tuple[EvidenceItem, bytes]:
        """One piece, decrypted."""
        async with self._db.reading() as s:
            row = await s.get(CallEvidence, evidence_id)
            if row is None:
                raise EvidenceNotFound()
            item = _item(
                row.id,
                row.report_id,
                row.call_id,
                row.subject_id,
                row.kind,
                row.seq,
                row.offset_ms,
                row.duration_ms,
                row.packets,
                row.size_bytes,
                row.created_at,
                row.expires_at,
            )
            blob = row.sealed
        try:
            data = self._sealer.open_bytes(
                blob, _context(item.id, item.report_id, item.subject_id, item.kind)
            )
        except SealError:
            raise EvidenceUnreadable() from None
        return item, data

    async def sweep(self) -> int:
        """Delete expired evidence whose report is no longer open; how many pieces went."""
        now = self._clock.now()
        still_open = select(Report.id).where(Report.status == "open")
        ids = select(CallEvidence.id).where(
            CallEvidence.expires_at <= now, CallEvidence.report_id.not_in(still_open)
        )
        total = await delete_in_batches(self._db, ids, CallEvidence.id, SWEEP_BATCH)
        if total:
            log.info("call_evidence_swept", pieces=total)
        return total


_META = (
    CallEvidence.id,
    CallEvidence.report_id,
    CallEvidence.call_id,
    CallEvidence.subject_id,
    CallEvidence.kind,
    CallEvidence.seq,
    CallEvidence.offset_ms,
    CallEvidence.duration_ms,
    CallEvidence.packets,
    CallEvidence.size_bytes,
    CallEvidence.created_at,
    CallEvidence.expires_at,
)


def _item(
    id: str,
    report_id: str,
    call_id: str,
    subject_id: str,
    kind: str,
    seq: int,
    offset_ms: int,
    duration_ms: int,
    packets: int,
    size_bytes: int,
    created_at: datetime,
    expires_at: datetime,
) -> EvidenceItem:
    return EvidenceItem(
        id,
        report_id,
        call_id,
        subject_id,
        kind,
        CONTENT_TYPES[kind],
        seq,
        offset_ms,
        duration_ms,
        packets,
        size_bytes,
        created_at,
        expires_at,
    )
