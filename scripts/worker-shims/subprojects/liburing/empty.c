/* Placeholder so link_whole has a target; only the optional libmediasoup-worker uses it. */
int relais_empty_link_whole_placeholder_usrsctp(void) { return 0; }
