"""One Store shared by threads (the UI's seals and the sync worker): no lost or torn writes."""

from __future__ import annotations

import threading

from app import packet
from app.enrollment import seal_record
from app.store.audit import verify_chain
from app.store.outbox import Outbox
from app.store.timeutil import utcnow
from tests.support.station import StationHome


def test_threads_seal_and_upload_on_one_store(station: StationHome) -> None:
    identity = station.identity()
    errors: list[BaseException] = []
    sealed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with station.open() as store:
        outbox = Outbox(store)

        def sealer(n: int) -> None:
            try:
                for i in range(n):
                    uuid, _, _ = seal_record(
                        store,
                        identity,
                        operator=station.operator,
                        manifest={"i": i},
                        attachments=[packet.Attachment("face.jpg", "image/jpeg", b"x" * 20_000)],
                    )
                    with lock:
                        sealed.append(uuid)
            except BaseException as exc:
                errors.append(exc)

        def uploader() -> None:
            # plays the sync worker: marks due records uploaded while seals go on
            try:
                while not stop.is_set():
                    for item in outbox.due(utcnow(), 5):
                        outbox.mark_uploaded(item.uuid, {"sha256": item.sha256})
                    outbox.counts()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sealer, args=(15,)) for _ in range(3)]
        up = threading.Thread(target=uploader)
        up.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stop.set()
        up.join(60)
        for item in outbox.due(utcnow(), 100):
            outbox.mark_uploaded(item.uuid, {"sha256": item.sha256})

        assert errors == []
        assert len(sealed) == len(set(sealed)) == 45
        assert outbox.counts() == {"sealed": 0, "uploaded": 45, "rejected": 0, "purged": 0}
        report = verify_chain(store)
        assert report.ok, report
