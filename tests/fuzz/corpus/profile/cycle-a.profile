a         tmpfs    -                    /a
include cycle-b
