tmp       tmpfs    -                    /tmp
include dup-b
