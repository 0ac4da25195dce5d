from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.job_event_cancel_requested import JobEventCancelRequested
    from ..models.job_event_canceled import JobEventCanceled
    from ..models.job_event_failed import JobEventFailed
    from ..models.job_event_metric import JobEventMetric
    from ..models.job_event_progress import JobEventProgress
    from ..models.job_event_queued import JobEventQueued
    from ..models.job_event_retry_scheduled import JobEventRetryScheduled
    from ..models.job_event_running import JobEventRunning
    from ..models.job_event_succeeded import JobEventSucceeded
    from ..models.job_event_trial import JobEventTrial


T = TypeVar("T", bound="WebhookPayload")


@_attrs_define
class WebhookPayload:
    """The body of a webhook delivery (the Standard Webhooks payload shape): signed with the
    webhook's secret in `webhook-signature`.

        Attributes:
            data (JobEventCanceled | JobEventCancelRequested | JobEventFailed | JobEventMetric | JobEventProgress |
                JobEventQueued | JobEventRetryScheduled | JobEventRunning | JobEventSucceeded | JobEventTrial): One event of a
                job: the `data:` of a server-sent event (whose `event:` is `type`), and
                the `data` of a webhook delivery.
            timestamp (datetime.datetime): When the event happened.
            type_ (str): The event's type (`job.succeeded`, …).
    """

    data: (
        JobEventCanceled
        | JobEventCancelRequested
        | JobEventFailed
        | JobEventMetric
        | JobEventProgress
        | JobEventQueued
        | JobEventRetryScheduled
        | JobEventRunning
        | JobEventSucceeded
        | JobEventTrial
    )
    timestamp: datetime.datetime
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_event_cancel_requested import JobEventCancelRequested
        from ..models.job_event_failed import JobEventFailed
        from ..models.job_event_metric import JobEventMetric
        from ..models.job_event_progress import JobEventProgress
        from ..models.job_event_queued import JobEventQueued
        from ..models.job_event_retry_scheduled import JobEventRetryScheduled
        from ..models.job_event_running import JobEventRunning
        from ..models.job_event_succeeded import JobEventSucceeded
        from ..models.job_event_trial import JobEventTrial

        data: dict[str, Any]
        if (
            isinstance(self.data, JobEventQueued)
            or isinstance(self.data, JobEventRunning)
            or isinstance(self.data, JobEventProgress)
            or isinstance(self.data, JobEventMetric)
            or isinstance(self.data, JobEventTrial)
            or isinstance(self.data, JobEventCancelRequested)
            or isinstance(self.data, JobEventRetryScheduled)
            or isinstance(self.data, JobEventSucceeded)
            or isinstance(self.data, JobEventFailed)
        ):
            data = self.data.to_dict()
        else:
            data = self.data.to_dict()

        timestamp = self.timestamp.isoformat()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "timestamp": timestamp,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.job_event_cancel_requested import JobEventCancelRequested
        from ..models.job_event_canceled import JobEventCanceled
        from ..models.job_event_failed import JobEventFailed
        from ..models.job_event_metric import JobEventMetric
        from ..models.job_event_progress import JobEventProgress
        from ..models.job_event_queued import JobEventQueued
        from ..models.job_event_retry_scheduled import JobEventRetryScheduled
        from ..models.job_event_running import JobEventRunning
        from ..models.job_event_succeeded import JobEventSucceeded
        from ..models.job_event_trial import JobEventTrial

        d = dict(src_dict)

        def _parse_data(
            data: object,
        ) -> (
            JobEventCanceled
            | JobEventCancelRequested
            | JobEventFailed
            | JobEventMetric
            | JobEventProgress
            | JobEventQueued
            | JobEventRetryScheduled
            | JobEventRunning
            | JobEventSucceeded
            | JobEventTrial
        ):
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_0 = JobEventQueued.from_dict(data)

                return componentsschemas_job_event_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_1 = JobEventRunning.from_dict(data)

                return componentsschemas_job_event_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_2 = JobEventProgress.from_dict(data)

                return componentsschemas_job_event_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_3 = JobEventMetric.from_dict(data)

                return componentsschemas_job_event_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_4 = JobEventTrial.from_dict(data)

                return componentsschemas_job_event_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_5 = JobEventCancelRequested.from_dict(
                    data
                )

                return componentsschemas_job_event_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_6 = JobEventRetryScheduled.from_dict(
                    data
                )

                return componentsschemas_job_event_type_6
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_7 = JobEventSucceeded.from_dict(data)

                return componentsschemas_job_event_type_7
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_event_type_8 = JobEventFailed.from_dict(data)

                return componentsschemas_job_event_type_8
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_job_event_type_9 = JobEventCanceled.from_dict(data)

            return componentsschemas_job_event_type_9

        data = _parse_data(d.pop("data"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        type_ = d.pop("type")

        webhook_payload = cls(
            data=data,
            timestamp=timestamp,
            type_=type_,
        )

        webhook_payload.additional_properties = d
        return webhook_payload

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
