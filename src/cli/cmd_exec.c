/* cmd_exec.c */
