# volatile: like rw, but the upper layer is a tmpfs, discarded at stop.

root     overlay  image:/              /               upper=tmpfs
tmp      tmpfs    -                    /tmp            mode=1777,nosuid,nodev
run      tmpfs    -                    /run            mode=0755,nosuid,nodev

# The default command of `goldroot start NAME`.
set      init     /sbin/init
