# placeholder copy_snapshot
