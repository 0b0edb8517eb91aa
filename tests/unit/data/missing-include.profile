root      image    -                    /
include   nothere
