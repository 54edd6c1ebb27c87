# placeholder share
