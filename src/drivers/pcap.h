/* pcap capture tee (layer: drivers). Its whole interface is public: include/ustack/pcap.h. */
#ifndef US_DRIVERS_PCAP_H
#define US_DRIVERS_PCAP_H

#include <ustack/pcap.h>

#endif
