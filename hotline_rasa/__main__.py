"""``python -m hotline_rasa <rasa arguments>``: Rasa's CLI with the speed fixes
and the shared secrets (:mod:`hotline_rasa.auth`: ``--auth-token`` for ``run``,
``RASA_AUTH_TOKEN`` and ``ACTION_SERVER_TOKEN`` for credentials.yml and
endpoints.yml), the endpoints files' variables (``ACTION_SERVER_URL``, the
Redis stores from ``REDIS_URL``) and ``MODEL_VERSION``
(:mod:`hotline_rasa.deployment`)."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping, Sequence

#: TensorFlow's thread pools while Rasa serves (``run``): one thread each.
#: Rasa reads these variables itself (``rasa.utils.tensorflow.environment``).
#: A turn's tensors are tiny: spread over two threads, a turn took 11-28 %
#: more CPU and wall time on this 2-core machine (Rasa CPU per turn 58.0-61.0
#: ms against 47.6-51.4 ms, p50 57.7-60.0 ms against 47.5-52.1 ms;
#: docs/adr/0017-rasa-one-tensorflow-thread-per-pool.md), and the second
#: thread competes with the front door and the action server on the same
#: cores. An operator's own value is kept.
SERVING_THREADS = {
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def serving_defaults(argv: Sequence[str], environ: MutableMapping[str, str]) -> dict[str, str]:
    """Set :data:`SERVING_THREADS` in ``environ`` for ``rasa run`` where unset.

    Training and tests (``rasa train``, ``rasa test``) keep TensorFlow's own
    choice. Returns what was set.
    """
    if len(argv) < 2 or argv[1] != "run":
        return {}
    added = {name: value for name, value in SERVING_THREADS.items() if not environ.get(name)}
    environ.update(added)
    return added


def main() -> None:
    from hotline_rasa import lean
    from hotline_rasa.auth import with_tokens
    from hotline_rasa.deployment import endpoint_environment, with_model_version
    from hotline_rasa.speedups import install

    serving_defaults(sys.argv, os.environ)
    endpoint_environment(os.environ)
    sys.argv = with_model_version(with_tokens(sys.argv, os.environ), os.environ)
    install()
    lean.install()  # no optimizer in saved models nor in the serving process
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
