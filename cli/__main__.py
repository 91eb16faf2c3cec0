import sys

from burstdeblur.main import main

sys.exit(main())
