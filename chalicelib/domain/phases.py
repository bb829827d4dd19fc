"""The fixed phase order and the AI task type each phase needs."""

from __future__ import annotations

from enum import StrEnum


class TaskType(StrEnum):
    PLANNING = "planning"
    COPYWRITING = "copywriting"
    CODING = "coding"
    REVIEW = "review"


class Phase(StrEnum):
    BRIEF = "brief"
    SITEMAP = "sitemap"
    CONTENT = "content"
    CODE = "code"
    REVIEW = "review"
    PUBLISH = "publish"


PHASES: tuple[Phase, ...] = tuple(Phase)

TASK_OF: dict[Phase, TaskType | None] = {
    Phase.BRIEF: TaskType.PLANNING,
    Phase.SITEMAP: TaskType.PLANNING,
    Phase.CONTENT: TaskType.COPYWRITING,
    Phase.CODE: TaskType.CODING,
    Phase.REVIEW: TaskType.REVIEW,
    Phase.PUBLISH: None,  # no AI: writes the reviewed files to the site bucket
}


def next_phase(phase: Phase) -> Phase | None:
    index = PHASES.index(phase)
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (GenerationStatus.QUEUED, GenerationStatus.RUNNING)
FINISHED = (GenerationStatus.SUCCEEDED, GenerationStatus.FAILED, GenerationStatus.CANCELLED)


class PhaseStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
