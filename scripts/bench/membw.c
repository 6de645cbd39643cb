#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
#include <pthread.h>
#define N (256UL<<20)
static char *buf; static int nth;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
__attribute__((target("avx2"))) static void *rd(void *p){ long i=(long)p; size_t chunk=N/nth; __m256i acc=_mm256_setzero_si256(); const char* b=buf+i*chunk; for(int rep=0;rep<5;rep++) for(size_t j=0;j<chunk;j+=64) acc=_mm256_xor_si256(acc,_mm256_load_si256((const __m256i*)(b+j))); static volatile int sink; sink=_mm256_extract_epi32(acc,0); return 0;}
int main(int c,char**v){nth=atoi(v[1]); buf=aligned_alloc(64,N); memset(buf,1,N); pthread_t t[8]; double s=now(); for(long i=0;i<nth;i++)pthread_create(&t[i],0,rd,(void*)i); for(int i=0;i<nth;i++)pthread_join(t[i],0); double e=now()-s; printf("%d threads: %.1f GB/s\n",nth, 5.0*N/e/1e9);}
