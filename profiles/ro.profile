# ro: the Redpaper layout (DESIGN.md §3), goldroot's default mode.
#
# / is the image, read-only and recursive, so /usr, /opt, /boot, /bin and /lib
# cannot be written even by root inside the instance. /etc, /var, /root, /srv
# and /home are writable and persistent: copy-on-write layers whose upper
# directories live in the instance's state. /tmp and /run are tmpfs. The
# package database describes /usr, so it is bound read-only from the image.

root     image    -                    /               ro
etc      overlay  image:/etc           /etc            upper=state:etc
var      overlay  image:/var           /var            upper=state:var
roothome overlay  image:/root          /root           upper=state:root
srv      overlay  image:/srv           /srv            upper=state:srv
home     overlay  image:/home          /home           upper=state:home
tmp      tmpfs    -                    /tmp            mode=1777,nosuid,nodev
run      tmpfs    -                    /run            mode=0755,nosuid,nodev
dpkg     bind     image:/var/lib/dpkg  /var/lib/dpkg   ro,optional
rpm      bind     image:/var/lib/rpm   /var/lib/rpm    ro,optional

# The default command of `goldroot start NAME`.
set      init     /sbin/init
