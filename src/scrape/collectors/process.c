/*-------------------------------------------------------------------------
 *
 * process.c
 *		Operating-system figures, from /proc: the process_* families every
 *		Prometheus client library writes, for the process that serves them
 *		(pg_prom's endpoint), and the same for the whole PostgreSQL
 *		instance, by backend type, under pg_prom's own names.
 *
 * process_* describe the endpoint worker, as postgres_exporter's describe
 * postgres_exporter: dashboards that show an exporter's CPU, memory and
 * open files keep their meaning.  The instance's figures are
 * pg_prom_server_*{backend_type}: the postmaster ("postmaster"), every
 * process in the backend status table (client backends, background
 * workers by their type, auxiliary processes).  No external exporter can
 * attribute the server's resources this way.
 *
 * The CPU counters never go down, per series: a process's time is added to
 * its type's counter as it grows between scrapes (a pid is followed with its
 * start time, so a reused pid is another process), and stays there when the
 * process ends.  The part an ended process spent since it was last seen, and
 * the whole of processes that lived between two scrapes, is in the
 * postmaster's cutime + cstime once it has reaped them: "exited" is that
 * total less what the type counters already hold, never shown smaller than
 * before (a child reaped while a scrape reads is counted at the next one).
 * The counters live in the process that scrapes (the collector worker, or a
 * session calling pg_prom_metrics()) and start from the processes' totals.
 *
 * Bounded: one read of /proc/<pid>/stat per process, the processes of this
 * instance only; their open files (a directory listing each, the costly
 * part) are counted at most every FDS_INTERVAL_MS and served from the last
 * count in between.  A
 * process that exits while it is read is skipped.  Linux only: elsewhere
 * nothing is written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/fd.h"
#include "utils/backend_status.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "shmem.h"

/* Least time between two counts of the instance's open files. */
#define FDS_INTERVAL_MS 15000
#define FDS_MAX_TYPES 64

/* The last count of the instance's open files, by backend type. */
static struct
{
	char		backend_type[NAMEDATALEN];
	double		open_fds;
}			fds_cache[FDS_MAX_TYPES];
static int	fds_cache_n = 0;
static TimestampTz fds_cache_at = 0;

/* What /proc says of one process. */
typedef struct ProcStat
{
	double		cpu_s;			/* utime + stime */
	double		children_cpu_s; /* cutime + cstime: reaped children */
	double		start_s;		/* since the epoch */
	unsigned long long start_ticks; /* since boot: tells reused pids apart */
	double		rss_bytes;
	double		vsize_bytes;
} ProcStat;

/* A process seen by an earlier scrape, followed until it is reaped. */
typedef struct Followed
{
	pid_t		pid;			/* hash key */
	unsigned long long start_ticks;
	char		backend_type[NAMEDATALEN];
	double		cpu_s;			/* at the last look */
	uint64		seen;			/* the scrape that last saw it */
} Followed;

/* The CPU counter of one backend type. */
typedef struct TypeCpu
{
	char		backend_type[NAMEDATALEN];	/* hash key */
	double		cpu_s;
} TypeCpu;

#define CPU_MAX_TYPES 128

static HTAB *followed = NULL;
static HTAB *type_cpu = NULL;
static uint64 scrape_no = 0;
static double reaped_followed_cpu = 0;	/* last looks of reaped processes */
static double exited_shown = -1;

/* Sums per backend type. */
typedef struct TypeSums
{
	char		backend_type[NAMEDATALEN];
	double		processes;
	double		rss_bytes;
	double		open_fds;
} TypeSums;

static double
boot_time_s(void)
{
	static double btime = -1;
	FILE	   *f;
	char		line[256];

	if (btime >= 0)
		return btime;
	btime = 0;
	f = AllocateFile("/proc/stat", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
	{
		unsigned long v;

		if (sscanf(line, "btime %lu", &v) == 1)
		{
			btime = (double) v;
			break;
		}
	}
	FreeFile(f);
	return btime;
}

/* Reads /proc/<pid>/stat; false when the process is gone or unreadable. */
static bool
read_stat(pid_t pid, ProcStat *st)
{
	char		path[64];
	char		buf[1024];
	int			fd;
	ssize_t		len;
	char	   *p;
	unsigned long utime,
				stime,
				vsize;
	long		cutime,
				cstime,
				rss;
	unsigned long long starttime;
	double		tick = (double) sysconf(_SC_CLK_TCK);

	/* plain open/read: no stdio buffer to allocate, one read */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	fd = OpenTransientFile(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	CloseTransientFile(fd);
	if (len < 0)
		return false;
	buf[len] = '\0';

	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || tick <= 0)
		return false;
	if (sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "	/* state .. cmajflt */
			   "%lu %lu %ld %ld "	/* utime stime cutime cstime */
			   "%*d %*d %*d %*d "	/* priority nice threads itrealvalue */
			   "%llu %lu %ld",	/* starttime vsize rss */
			   &utime, &stime, &cutime, &cstime, &starttime, &vsize, &rss) != 7)
		return false;
	st->cpu_s = (utime + stime) / tick;
	st->children_cpu_s = (cutime + cstime) / tick;
	st->start_s = boot_time_s() + starttime / tick;
	st->start_ticks = starttime;
	st->vsize_bytes = (double) vsize;
	st->rss_bytes = (double) rss * (double) sysconf(_SC_PAGESIZE);
	return true;
}

/* Entries of /proc/<pid>/fd, or -1 when it cannot be listed. */
static double
open_fds(pid_t pid)
{
	char		path[64];
	DIR		   *dir;
	struct dirent *de;
	double		n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	dir = AllocateDir(path);
	if (dir == NULL)
		return -1;
	while ((de = ReadDirExtended(dir, path, LOG)) != NULL)
	{
		if (de->d_name[0] != '.')
			n++;
	}
	FreeDir(dir);
	return n;
}

/* The soft limit on open files of pid, from /proc/<pid>/limits; -1: none. */
static double
max_fds(pid_t pid)
{
	char		path[64];
	char		line[256];
	FILE	   *f;
	double		result = -1;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int) pid);
	f = AllocateFile(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
	{
		unsigned long v;

		if (strncmp(line, "Max open files", 14) == 0)
		{
			if (sscanf(line + 14, " %lu", &v) == 1)
				result = (double) v;
			break;
		}
	}
	FreeFile(f);
	return result;
}

static void
add_process(HTAB *sums, const char *type, pid_t pid, const ProcStat *st,
			bool count_fds)
{
	TypeSums   *s;
	bool		found;
	char		key[NAMEDATALEN];
	double		fds = count_fds ? open_fds(pid) : 0;

	memset(key, 0, sizeof(key));
	strlcpy(key, type, sizeof(key));
	s = hash_search(sums, key, HASH_ENTER, &found);
	if (!found)
	{
		s->processes = 0;
		s->rss_bytes = 0;
		s->open_fds = 0;
	}
	s->processes += 1;
	s->rss_bytes += st->rss_bytes;
	if (fds > 0)
		s->open_fds += fds;
}

/* A table of entries keyed by backend type name, in cxt. */
static HTAB *
by_type(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 32, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

static void
cpu_tables_init(void)
{
	HASHCTL		ctl;

	if (followed != NULL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(pid_t);
	ctl.entrysize = sizeof(Followed);
	ctl.hcxt = TopMemoryContext;
	followed = hash_create("pg_prom followed processes", 256, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	type_cpu = by_type("pg_prom CPU by backend type", sizeof(TypeCpu),
					   TopMemoryContext);
}

/* Adds cpu_s to the counter of type (types past CPU_MAX_TYPES: "other"). */
static void
type_cpu_add(const char *type, double cpu_s)
{
	char		key[NAMEDATALEN];
	TypeCpu    *t;
	bool		found;

	memset(key, 0, sizeof(key));
	strlcpy(key, type, sizeof(key));
	t = hash_search(type_cpu, key, HASH_FIND, NULL);
	if (t == NULL)
	{
		if (hash_get_num_entries(type_cpu) >= CPU_MAX_TYPES)
		{
			memset(key, 0, sizeof(key));
			strlcpy(key, "other", sizeof(key));
		}
		t = hash_search(type_cpu, key, HASH_ENTER, &found);
		if (!found)
			t->cpu_s = 0;
	}
	if (cpu_s > 0)
		t->cpu_s += cpu_s;
}

/* A live process of type: what it used since the last look goes to type. */
static void
follow(pid_t pid, const char *type, const ProcStat *st)
{
	Followed   *f;
	bool		found;
	double		delta;

	f = hash_search(followed, &pid, HASH_ENTER, &found);
	if (found && f->start_ticks != st->start_ticks)
	{
		/* the pid was reaped and given to another process since */
		reaped_followed_cpu += f->cpu_s;
		found = false;
	}
	delta = found ? st->cpu_s - f->cpu_s : st->cpu_s;
	/* the entry complete before anything that may fail */
	f->start_ticks = st->start_ticks;
	strlcpy(f->backend_type, type, NAMEDATALEN);
	if (!found || st->cpu_s > f->cpu_s)
		f->cpu_s = st->cpu_s;
	f->seen = scrape_no;
	type_cpu_add(type, delta);
}

/*
 * Followed processes this scrape did not meet (ended, or ending: out of the
 * status table but not yet reaped): the time of the ones still in /proc goes
 * to their type; the ones reaped are forgotten, their time is in the
 * postmaster's children total.
 */
static void
sweep_followed(void)
{
	HASH_SEQ_STATUS seq;
	Followed   *f;
	ProcStat	st;

	hash_seq_init(&seq, followed);
	while ((f = hash_seq_search(&seq)) != NULL)
	{
		if (f->seen == scrape_no)
			continue;
		if (read_stat(f->pid, &st) && st.start_ticks == f->start_ticks)
		{
			type_cpu_add(f->backend_type, st.cpu_s - f->cpu_s);
			if (st.cpu_s > f->cpu_s)
				f->cpu_s = st.cpu_s;
			f->seen = scrape_no;
			continue;
		}
		reaped_followed_cpu += f->cpu_s;
		(void) hash_search(followed, &f->pid, HASH_REMOVE, NULL);
	}
}

static void
write_endpoint(PromWriter *w)
{
	pid_t		pid = pgprom_shared ?
		(pid_t) pg_atomic_read_u32(&pgprom_shared->worker_pid) : 0;
	ProcStat	st;
	double		fds;
	double		limit;

	if (pid == 0 || !read_stat(pid, &st))
		return;
	fds = open_fds(pid);
	limit = max_fds(pid);
	pgprom_expo_single(w, "process_cpu_seconds_total",
					   "Total user and system CPU time spent in seconds, by pg_prom's endpoint process (see pg_prom_server_cpu_seconds_total for the server).",
					   PROM_COUNTER, st.cpu_s);
	pgprom_expo_single(w, "process_resident_memory_bytes",
					   "Resident memory size in bytes of pg_prom's endpoint process.",
					   PROM_GAUGE, st.rss_bytes);
	pgprom_expo_single(w, "process_virtual_memory_bytes",
					   "Virtual memory size in bytes of pg_prom's endpoint process.",
					   PROM_GAUGE, st.vsize_bytes);
	if (fds >= 0)
		pgprom_expo_single(w, "process_open_fds",
						   "Number of open file descriptors of pg_prom's endpoint process.",
						   PROM_GAUGE, fds);
	if (limit >= 0)
		pgprom_expo_single(w, "process_max_fds",
						   "Maximum number of open file descriptors of pg_prom's endpoint process.",
						   PROM_GAUGE, limit);
	pgprom_expo_single(w, "process_start_time_seconds",
					   "Start time of pg_prom's endpoint process since unix epoch in seconds.",
					   PROM_GAUGE, st.start_s);
}

static void
write_server(PromWriter *w)
{
	HTAB	   *sums;
	HASH_SEQ_STATUS seq;
	TypeSums   *s;
	TypeCpu    *t;
	ProcStat	st;
	bool		have_children = false;
	double		children_cpu_s = 0;
	int			n = pgstat_fetch_stat_numbackends();
	int			i;
	TimestampTz now = GetCurrentTimestamp();
	bool		count_fds = fds_cache_at == 0 ||
		TimestampDifferenceExceeds(fds_cache_at, now, FDS_INTERVAL_MS);

	sums = by_type("pg_prom server processes", sizeof(TypeSums),
				   CurrentMemoryContext);
	cpu_tables_init();
	scrape_no++;

	/* the postmaster's children total first: see the header comment */
	if (PostmasterPid != 0 && read_stat(PostmasterPid, &st))
	{
		add_process(sums, "postmaster", PostmasterPid, &st, count_fds);
		follow(PostmasterPid, "postmaster", &st);
		have_children = true;
		children_cpu_s = st.children_cpu_s;
	}
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgprom_local_beentry(i);
		PgBackendStatus *be;
		const char *type;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid <= 0 || !read_stat(be->st_procpid, &st))
			continue;
		type = NULL;
		if (be->st_backendType == B_BG_WORKER)
			type = GetBackgroundWorkerTypeByPid(be->st_procpid);
		if (type == NULL)
			type = GetBackendTypeDesc(be->st_backendType);
		add_process(sums, type, be->st_procpid, &st, count_fds);
		follow(be->st_procpid, type, &st);
	}
	sweep_followed();
	if (have_children &&
		children_cpu_s - reaped_followed_cpu > exited_shown)
		exited_shown = children_cpu_s - reaped_followed_cpu;
	if (count_fds)
	{
		fds_cache_n = 0;
		hash_seq_init(&seq, sums);
		while ((s = hash_seq_search(&seq)) != NULL)
		{
			if (fds_cache_n < FDS_MAX_TYPES)
			{
				strlcpy(fds_cache[fds_cache_n].backend_type, s->backend_type, NAMEDATALEN);
				fds_cache[fds_cache_n++].open_fds = s->open_fds;
			}
		}
		fds_cache_at = now;
	}

	if (pgprom_expo_family(w, "pg_prom_server_cpu_seconds_total",
						   "User and system CPU time of the PostgreSQL instance's processes, by backend type, from /proc; a type keeps the time of its processes that ended, \"exited\" holds what ended processes used after they were last seen.",
						   PROM_COUNTER))
	{
		hash_seq_init(&seq, type_cpu);
		while ((t = hash_seq_search(&seq)) != NULL)
			pgprom_expo_value1(w, "backend_type", t->backend_type, t->cpu_s);
		if (exited_shown >= 0)
			pgprom_expo_value1(w, "backend_type", "exited", exited_shown);
	}
	if (pgprom_expo_family(w, "pg_prom_server_resident_memory_bytes",
						   "Resident memory of the PostgreSQL instance's processes, by backend type (shared memory a process has touched counts in each of them).",
						   PROM_GAUGE))
	{
		hash_seq_init(&seq, sums);
		while ((s = hash_seq_search(&seq)) != NULL)
			pgprom_expo_value1(w, "backend_type", s->backend_type, s->rss_bytes);
	}
	if (pgprom_expo_family(w, "pg_prom_server_open_fds",
						   "Open file descriptors of the PostgreSQL instance's processes, by backend type (counted at most every 15 seconds).",
						   PROM_GAUGE))
	{
		for (i = 0; i < fds_cache_n; i++)
			pgprom_expo_value1(w, "backend_type", fds_cache[i].backend_type,
							   fds_cache[i].open_fds);
	}
	if (pgprom_expo_family(w, "pg_prom_server_processes",
						   "Processes of the PostgreSQL instance, by backend type.",
						   PROM_GAUGE))
	{
		hash_seq_init(&seq, sums);
		while ((s = hash_seq_search(&seq)) != NULL)
			pgprom_expo_value1(w, "backend_type", s->backend_type, s->processes);
	}
}

void
pgprom_collect_process(PromWriter *w)
{
#ifdef __linux__
	write_endpoint(w);
	write_server(w);
#endif
}
