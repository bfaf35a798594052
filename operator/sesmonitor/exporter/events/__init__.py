"""spec.events: SES events from an SQS queue, counted once each, published into the state.

In: the SQS client and queue URL. Out: `ExporterState.record_events` / `record_queue` (an
`model.events.EventsSnapshot` and the queue's depth); the messages counted are deleted from the queue.
"""
