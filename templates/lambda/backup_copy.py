# placeholder backup_copy
