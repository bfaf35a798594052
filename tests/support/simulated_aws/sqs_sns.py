"""SQS and SNS in the simulation: an SES event pipeline (SNS topic, SQS queue with a dead-letter queue).

What deploy/aws/ses-events.yaml creates in AWS, less the SES event destination, which moto cannot feed
from real sending: tests and the demo publish SES-shaped notifications to the topic, and SNS delivers
them to the queue as it would SES's own. moto 5.2.5 implements all the SNS and SQS calls used here and
the exporter's (ReceiveMessage, DeleteMessageBatch, redrive to the dead-letter queue): nothing is stood in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from support.moto_ses import SimulatedSes


@dataclass(frozen=True)
class EventPipeline:
    sns: Any
    sqs: Any
    topic_arn: str
    queue_url: str
    dead_letter_url: str

    def publish(self, event: dict[str, Any]) -> None:
        self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))

    def send_body(self, body: str) -> None:
        """A message put on the queue directly (raw delivery, EventBridge, or junk)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def attributes(self, url: str | None = None) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        got = self.sqs.get_queue_attributes(QueueUrl=url or self.queue_url, AttributeNames=names)
        return {k: int(v) for k, v in got["Attributes"].items()}


def event_pipeline(
    ses: SimulatedSes,
    name: str = "ses-events",
    *,
    raw: bool = False,
    visibility_timeout: int = 30,
    max_receive_count: int = 5,
    dead_letter: bool = True,
) -> EventPipeline:
    """Created straight in moto (not through the fault proxy, so the proxy counts only the exporter).
    `dead_letter` False: a queue without a RedrivePolicy ("a queue fed otherwise", docs/install.md)."""
    sns, sqs = ses.client("sns", direct=True), ses.client("sqs", direct=True)
    dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(max_receive_count)})
    attributes = {"VisibilityTimeout": str(visibility_timeout)}
    if dead_letter:
        attributes["RedrivePolicy"] = redrive
    queue = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true" if raw else "false"},
    )
    return EventPipeline(sns, sqs, topic, queue, dead)
