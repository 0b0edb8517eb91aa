# Shared entries are the same for every instance: no %n here.
x         tmpfs    -                    /srv/%n
