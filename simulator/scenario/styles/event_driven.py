"""Event-driven: producers publish to a broker and answer; consumers do the rest asynchronously.

A request enters the deployable ``api``, which runs the steps the client needs (the ones not
marked ``deferrable``) in-process against the shared database ``db``. The deferrable steps become
an event: ``api`` publishes it to a topic on the ``broker`` (one network round trip, the broker's
``service_time`` on one of its cores, ``style.serialisation`` CPU at the producer) and answers the
client without waiting for them. The broker delivers the event to every consumer group
subscribed to the topic: a deployable ``<capability>-consumer`` that runs that capability's
deferrable steps, with its own instances and concurrency. Events wait at the consumers: that wait
is the backlog (``queue.<capability>-consumer`` in the time series).

Delivery is at least once: if a consumer instance crashes, every event it held (in progress or
waiting) is delivered again after ``redelivery_after``, up to ``redeliveries`` times, to an
instance that is up. Results report the client-visible latency (``latency_*``) and the end-to-end
event latency from the request's start to the end of each consumer's work (``async_latency_*``).

Topics default to one per request class that has deferrable steps, named after the class, with
the capabilities of those steps as consumers.
"""

from __future__ import annotations

from ...suggest import did_you_mean, listing

from .building import Build, Hops, call, data_steps, dist, work

KIND = "event-driven"
API = "api"  #: The producer: the request/response part of the application.
BROKER = "broker"
DATABASE = "db"


def consumer_of(capability: str) -> str:
    """The consumer group deployable of a capability."""
    return f"{capability}-consumer"


def topics_of(b: Build) -> dict[str, list[str]]:
    """Topic -> the capabilities consuming it; checked against the application."""
    explicit = b.style.event_driven.topics
    if explicit is None:
        topics: dict[str, list[str]] = {}
        for request, spec in b.app.requests.items():
            consumers = list(dict.fromkeys(s.use.partition(".")[0] for s in spec.steps if s.deferrable))
            if consumers:
                topics[request] = consumers
        return topics
    where = b.settings_path + ("topics",)
    for topic, spec in explicit.items():
        if not spec.consumers:
            b.error(where + (topic, "consumers"), f"topic '{topic}' has no consumer: list the capabilities that consume it")
        for i, capability in enumerate(spec.consumers):
            if capability not in b.app.capabilities:
                suggestion = did_you_mean(capability, b.app.capabilities)
                b.error(where + (topic, "consumers", i), f"topic '{topic}': no capability '{capability}' to consume it{suggestion}; capabilities: {listing(b.app.capabilities)}")
    return {topic: list(spec.consumers) for topic, spec in explicit.items()}


def compile(b: Build) -> None:
    """Build the producer, the broker with its topics, the consumer groups and the database."""
    settings = b.style.event_driven
    ser = b.style.serialisation
    topics = topics_of(b)
    topic_of = {}
    for topic, consumers in topics.items():
        for capability in consumers:
            topic_of.setdefault(capability, topic)  # a capability in several topics consumes from the first
    redelivery = {"retries": settings.redeliveries, "retry_backoff": dist(settings.redelivery_after), "backoff_multiplier": 1.0}

    api_ops: dict = {}
    broker_ops: dict = {}
    consumer_ops: dict[str, dict] = {}
    for request, spec in b.app.requests.items():
        hops = b.hops.setdefault(request, Hops())
        hops.add(1)  # client -> api
        api_calls: list = []
        events: dict[str, dict[str, list]] = {}  # topic -> capability -> steps its consumer runs
        for i, step in enumerate(spec.steps):
            capability, _, op = b.operation(step.use)
            if not step.deferrable:
                api_calls += work(b.style.in_process_call) + data_steps(op, DATABASE, step.use)
                hops.add(op.reads + op.writes)
                continue
            topic = topic_of.get(capability)
            if topic is None:
                b.error(
                    ("application", "requests", request, "steps", i),
                    f"deferrable step '{step.use}' has no topic: no topic lists '{capability}' among its consumers (topics: {', '.join(topics) or 'none'})",
                )
            if topic not in events:
                events[topic] = {}
                api_calls += work(ser) + [call(f"{BROKER}.{topic}:{request}")]
                hops.add(1)  # api -> broker (publish, acknowledged)
            events[topic].setdefault(capability, []).extend(data_steps(op, DATABASE, step.use))
            hops.add(op.reads + op.writes, waited_for=False)
        for topic, by_capability in events.items():
            deliveries = []
            for capability, steps in by_capability.items():
                consumer_ops.setdefault(capability, {})[request] = {"calls": work(ser) + steps}
                deliveries.append(call(f"{consumer_of(capability)}.{request}", mode="async", **redelivery))
                hops.add(1, waited_for=False)  # broker -> consumer
            broker_ops[f"{topic}:{request}"] = {"service_time": dist(settings.broker.service_time), "calls": deliveries}
        api_ops[request] = {"calls": api_calls}
        b.request_class(request, [call(f"{API}.{request}")])

    for request, spec in b.app.requests.items():
        for step in spec.steps:
            capability = step.use.partition(".")[0]
            if not step.deferrable:
                b.placement[capability] = API
            else:
                b.placement.setdefault(capability, consumer_of(capability))
    b.deployable(API, api_ops)
    broker = settings.broker
    b.add_service(BROKER, {"instances": 1, "cores": broker.cores, "concurrency": broker.cores, "operations": broker_ops or {"idle": {"service_time": 0}}}, "broker")
    fixed = {"queue": broker.capacity} if broker.capacity is not None else {}
    for capability, ops in consumer_ops.items():
        b.deployable(consumer_of(capability), ops, **fixed)
    b.database(DATABASE)
    b.facts["topics"] = len(topics)
    b.facts["consumer_groups"] = len(consumer_ops)
    b.parameters["broker_service_time_s"] = broker.service_time.mean
    b.parameters["redelivery_after_s"] = settings.redelivery_after.mean
