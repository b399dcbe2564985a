"""``python -m hotline_rasa <rasa arguments>``: Rasa's CLI with the speed fixes."""

from __future__ import annotations

import sys


def main() -> None:
    from hotline_rasa.speedups import install

    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
