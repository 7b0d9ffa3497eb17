/* print2mail.c - placeholder until the backend lands. */
int main(void) { return 0; }
