# zsh -f zsh-complete.zsh DIR LINE: types LINE and a tab into an interactive zsh (compinit, DIR
# first in fpath) on a pseudo-terminal and prints the listing it shows: the completion as a user
# sees it. Nothing more is typed until the listing is out (zle shows none while input waits).
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
# RE''ADY: only the output matches, not the echo of what was typed
zpty -w z "zstyle ':completion:*' list-prompt ''; LISTMAX=1000; setopt nobeep; print RE''ADY"
zpty -r z line '*READY*'
zpty -w -n z "$2"$'\t'
# the listing is out once a line has come and then nothing for half a second (20 s at most)
out=
integer quiet=0 i
for i in {1..200}; do
    if zpty -r -t z chunk; then
        out+=$chunk
        quiet=0
    else
        sleep 0.1
        ((quiet++))
    fi
    ((quiet >= 5)) && [[ $out == *$'\n'* ]] && break
done
print -r -- "$out"
zpty -d z
