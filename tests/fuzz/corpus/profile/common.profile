# Spliced into web.profile where it is included.
root      image    -                    /            ro
set init /sbin/init --log-level=info
set network host
