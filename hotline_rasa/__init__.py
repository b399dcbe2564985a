"""Run Rasa with the hotline's measured speed fixes (see :mod:`hotline_rasa.speedups`).

``python -m hotline_rasa run --enable-api ...`` takes exactly the arguments of
``rasa``; it installs the fixes into the Rasa process and then hands over to
Rasa's own command line.
"""

from hotline_rasa.speedups import install

__all__ = ["install"]
