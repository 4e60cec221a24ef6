"""``python -m datagen ...`` (the same commands as ``invevolve datagen ...``)."""
import sys

from datagen.cli import main

sys.exit(main())
