"""The send pipeline, one module per stage.

    scheduling   which campaigns get chunks; which server; when finished
    claim        take due ledger rows atomically, with a lease
    prepare      render, build MIME, DKIM-sign (``MessageFactory``)
    gate         rates, quotas, domain limits, stop: one Redis round trip
    transmit     many messages in flight over a channel's lanes (threads)
    record       outcomes into the ledger in batches, journaled in Redis
    breaker      servers out of rotation, campaigns paused on errors

    chunk        runs the stages for one claimed chunk of a campaign
    direct       test sends and confirmation emails: channel + gate, no ledger

    channel      the ``Channel``/``Lane`` protocol, ``open_channel``
    smtp, esp    the two channels: pooled SMTP with PIPELINING; ESP APIs
    slots        connection caps shared by every worker, and fair shares
    types        value types every stage shares (a leaf module)

Celery tasks (``delivery.tasks``) are thin wrappers over ``chunk.run_chunk``,
``scheduling.dispatch`` and ``scheduling.tick``; nothing here imports them.
"""
