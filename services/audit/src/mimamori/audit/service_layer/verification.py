"""Verifying the stored ledger: stream its rows, page by page, through the domain's verifier."""

from __future__ import annotations

from mimamori.audit.adapters.checkpoints import CheckpointRepository
from mimamori.audit.adapters.ledger import LedgerRepository
from mimamori.audit.domain.verification import ChainVerifier, TokenOpener, VerificationReport

PAGE = 2000


async def verify_ledger(
    *, ledger: LedgerRepository, checkpoints: CheckpointRepository, open_token: TokenOpener | None
) -> VerificationReport:
    """Recompute the chain from its first row and check every checkpoint (signatures too, given an opener)."""
    verifier = ChainVerifier(await checkpoints.all(), open_token=open_token)
    after = 0
    while page := await ledger.page(after_seq=after, limit=PAGE):
        verifier.feed(page)
        after = page[-1].seq
    return verifier.finish()
