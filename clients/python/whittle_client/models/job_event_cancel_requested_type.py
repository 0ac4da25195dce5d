from enum import StrEnum


class JobEventCancelRequestedType(StrEnum):
    JOB_CANCEL_REQUESTED = "job.cancel_requested"

    def __str__(self) -> str:
        return str(self.value)
