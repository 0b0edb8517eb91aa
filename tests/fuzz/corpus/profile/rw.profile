# rw: the whole root is writable, an overlay with the image as its lower layer
# and the instance's state as its upper. The maintenance and test instance
# (the seeds' S10RWMNT and S10RWTST).

root     overlay  image:/              /               upper=state:root
tmp      tmpfs    -                    /tmp            mode=1777,nosuid,nodev
run      tmpfs    -                    /run            mode=0755,nosuid,nodev

# The default command of `goldroot start NAME`.
set      init     /sbin/init
