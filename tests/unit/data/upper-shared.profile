# An overlay with a host upper, for test-plan-upper.
o         overlay  /srv/lower  /srv/o  upper=/srv/shared-up
