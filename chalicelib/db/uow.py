"""Unit of work: one short transaction, rolled back unless committed, connection returned at exit.

Never hold one open across a network wait (AI call, SQS send, DynamoDB write).
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()  # no-op after commit; clears an aborted transaction otherwise
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
