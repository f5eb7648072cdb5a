# ovms.twizy — the Renault Twizy vehicle module "RT 2.5" (spec: twizy-vehicle.md).
# Licence: MIT (this project).
