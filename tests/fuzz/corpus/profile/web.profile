# A main profile: an include and a reference to a shared profile.
include common
log       bind     logs:share/%n/log    /var/log     rw,create
