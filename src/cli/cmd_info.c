/* cmd_info.c */
