# placeholder rdsbk_common
