%% RUSM actor benchmarks, Erlang/OTP side: the peer of bench_otp.c.
%% Run by bench/otp/run.sh as
%%   erl -noshell +S W:W +P 4194304 -pa DIR -run rusm_bench main NAME RUNS
%% Prints one `RESULT <value>` line per run (rates in units per second,
%% memory in bytes per process); run.sh takes the median.
%%
%% Each run happens in a fresh driver process (spawn_monitor), timed with
%% erlang:monotonic_time, and the next run starts only once every process of
%% the previous one is gone. The workloads mirror bench_otp.c one for one:
%% same process structure, same counts, messages of the same small size.
-module(rusm_bench).
-export([main/1]).

-define(SPAWN_N, 1000000).
-define(IDLE_N, 1000000).
-define(IDLE_CORO_N, 100000).
-define(PING_N, 1000000).
-define(RING_N, 10000).
-define(RING_LAPS, 100).
-define(MRING_N, 1000).
-define(MRING_HOPS, 10000).
-define(FAN_SENDERS, 1000).
-define(FAN_MSGS, 1000).
-define(LINK_N, 100000).
-define(SUP_N, 10000).
-define(CALL_N, 1000000).

main([NameS, RunsS]) ->
    %% No log output: a crashing gen_server (sup_restart) would otherwise
    %% format a crash report per restart. This makes Erlang faster, not slower.
    logger:set_primary_config(level, none),
    Name = list_to_atom(NameS),
    Runs = list_to_integer(RunsS),
    try
        lists:foreach(fun(_) ->
                              R = isolated(Name),
                              io:format("RESULT ~.6f~n", [float(R)])
                      end, lists:seq(1, Runs)),
        halt(0)
    catch C:E:St ->
            io:format(standard_error, "rusm_bench ~s: ~p:~p ~p~n", [NameS, C, E, St]),
            halt(1)
    end.

isolated(Name) ->
    Base = erlang:system_info(process_count),
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {result, self(), run(Name)} end),
    R = receive
            {result, Pid, V} -> V;
            {'DOWN', Ref, process, Pid, Why} -> error({driver_died, Why})
        end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    wait_count(Base),
    garbage_collect(),
    R.

now_ns() -> erlang:monotonic_time(nanosecond).
per_sec(Count, T0, T1) -> Count / ((T1 - T0) / 1.0e9).

check(true, _) -> ok;
check(false, What) -> error({check_failed, What}).

%% Yields until the node has Base processes again.
wait_count(Base) ->
    case erlang:system_info(process_count) of
        Base -> ok;
        _ -> erlang:yield(), wait_count(Base)
    end.

%% Yields until every process in the list is blocked in receive.
wait_waiting([]) -> ok;
wait_waiting([P | Ps] = L) ->
    case process_info(P, status) of
        {status, waiting} -> wait_waiting(Ps);
        _ -> erlang:yield(), wait_waiting(L)
    end.

run(spawn_storm) -> spawn_storm(?SPAWN_N);
run(spawn_storm_coro) -> spawn_storm(?SPAWN_N);   % one kind of process in Erlang
run(spawn_idle) -> spawn_idle(?IDLE_N);
run(idle_mem_handler) -> idle_mem(?IDLE_N);
run(idle_mem_coro) -> idle_mem(?IDLE_CORO_N);
run(ping_pong) -> ping_pong(?PING_N);
run(ring) -> ring(?RING_N, ?RING_LAPS);
run(ring_multi) -> ring_multi(?MRING_N, ?MRING_HOPS);
run(fan_in) -> fan_in(?FAN_SENDERS, ?FAN_MSGS);
run(link_exit) -> link_exit(?LINK_N);
run(sup_restart) -> sup_restart(?SUP_N);
run(call_rtt) -> call_rtt(?CALL_N);
run(Other) -> error({unknown_workload, Other}).

%% ---- spawn_storm: N processes that exit at once; time until all are gone.
spawn_storm(N) ->
    Base = erlang:system_info(process_count),
    T0 = now_ns(),
    spawn_exiting(N),
    wait_count(Base),
    T1 = now_ns(),
    per_sec(N, T0, T1).

spawn_exiting(0) -> ok;
spawn_exiting(K) -> spawn(fun() -> ok end), spawn_exiting(K - 1).

%% ---- spawn_idle: N processes blocked in receive; time until all wait.
idle() -> receive stop -> ok end.

spawn_idle_list(0, Acc) -> Acc;
spawn_idle_list(K, Acc) -> spawn_idle_list(K - 1, [spawn(fun idle/0) | Acc]).

stop_all(Pids, Base) ->
    lists:foreach(fun(P) -> P ! stop end, Pids),
    wait_count(Base).

spawn_idle(N) ->
    Base = erlang:system_info(process_count),
    T0 = now_ns(),
    Pids = spawn_idle_list(N, []),
    wait_waiting(Pids),
    T1 = now_ns(),
    check(erlang:system_info(process_count) =:= Base + N, spawn_idle_count),
    stop_all(Pids, Base),
    per_sec(N, T0, T1).

%% ---- idle_mem: bytes per idle process, erlang:memory(processes) delta
%% minus the driver's own growth (it holds the list of pids).
idle_mem(N) ->
    Base = erlang:system_info(process_count),
    garbage_collect(),
    M0 = erlang:memory(processes),
    {memory, S0} = process_info(self(), memory),
    Pids = spawn_idle_list(N, []),
    wait_waiting(Pids),
    M1 = erlang:memory(processes),
    {memory, S1} = process_info(self(), memory),
    check(erlang:system_info(process_count) =:= Base + N, idle_mem_count),
    stop_all(Pids, Base),
    ((M1 - M0) - (S1 - S0)) / N.

%% ---- ping_pong: N round trips of a small message between two processes.
pong() ->
    receive
        {From, K} -> From ! K, pong();
        stop -> ok
    end.

ping(Pong, 0, Driver) -> Pong ! stop, Driver ! {done, self()};
ping(Pong, K, Driver) ->
    Pong ! {self(), K},
    receive
        K -> ping(Pong, K - 1, Driver);
        Other -> error({bad_pong, K, Other})
    end.

ping_pong(N) ->
    Self = self(),
    Pong = spawn(fun pong/0),
    T0 = now_ns(),
    Ping = spawn(fun() -> ping(Pong, N, Self) end),
    receive {done, Ping} -> ok end,
    T1 = now_ns(),
    per_sec(N, T0, T1).

%% ---- ring: a token travels Laps times around a ring of N processes.
%% Every node forwards {token, R-1}; the node that receives {token, 0} reports
%% to the driver (with its clock) and sends stop around the ring.
ring_node(Next, Driver) ->
    receive
        {token, 0} -> Driver ! {done, now_ns()}, Next ! stop, ring_node(Next, Driver);
        {token, R} -> Next ! {token, R - 1}, ring_node(Next, Driver);
        stop -> Next ! stop
    end.

ring_head(Driver) ->
    receive {next, Next} -> ring_node(Next, Driver) end.

%% Builds the ring; returns the head.
build_ring(N, Driver) ->
    Head = spawn(fun() -> ring_head(Driver) end),
    First = build_chain(N - 1, Head, Driver),
    Head ! {next, First},
    Head.

build_chain(0, Next, _) -> Next;
build_chain(K, Next, Driver) ->
    P = spawn(fun() -> ring_node(Next, Driver) end),
    build_chain(K - 1, P, Driver).

ring(N, Laps) ->
    Hops = N * Laps,
    Head = build_ring(N, self()),
    T0 = now_ns(),
    Head ! {token, Hops},
    T1 = receive {done, T} -> T end,
    per_sec(Hops, T0, T1).

%% ---- ring_multi: N processes, N tokens in flight, each makes Hops hops.
%% A node that receives {token, 0} sends done to the driver; the driver counts.
mring_node(Next, Driver) ->
    receive
        {token, 0} -> Driver ! done, mring_node(Next, Driver);
        {token, R} -> Next ! {token, R - 1}, mring_node(Next, Driver);
        stop -> ok
    end.

mring_head(Driver) ->
    receive {next, Next} -> mring_node(Next, Driver) end.

mring_chain(0, Next, _, Acc) -> {Next, Acc};
mring_chain(K, Next, Driver, Acc) ->
    P = spawn(fun() -> mring_node(Next, Driver) end),
    mring_chain(K - 1, P, Driver, [P | Acc]).

collect_done(0) -> ok;
collect_done(K) -> receive done -> collect_done(K - 1) end.

ring_multi(N, Hops) ->
    Self = self(),
    Head = spawn(fun() -> mring_head(Self) end),
    {First, Nodes} = mring_chain(N - 1, Head, Self, []),
    Head ! {next, First},
    All = [Head | Nodes],
    T0 = now_ns(),
    lists:foreach(fun(P) -> P ! {token, Hops} end, All),
    collect_done(N),
    T1 = now_ns(),
    lists:foreach(fun(P) -> P ! stop end, All),
    per_sec(N * Hops, T0, T1).

%% ---- fan_in: Senders processes each send Msgs small messages to one receiver.
fan_recv(0, Sum, Driver) -> Driver ! {done, Sum};
fan_recv(K, Sum, Driver) -> receive V -> fan_recv(K - 1, Sum + V, Driver) end.

fan_send(_, 0) -> ok;
fan_send(R, K) -> R ! K, fan_send(R, K - 1).

fan_in(Senders, Msgs) ->
    Self = self(),
    Total = Senders * Msgs,
    R = spawn(fun() -> fan_recv(Total, 0, Self) end),
    T0 = now_ns(),
    lists:foreach(fun(_) -> spawn(fun() -> fan_send(R, Msgs) end) end,
                  lists:seq(1, Senders)),
    Sum = receive {done, S} -> S end,
    T1 = now_ns(),
    check(Sum =:= Senders * (Msgs * (Msgs + 1) div 2), fan_in_sum),
    per_sec(Total, T0, T1).

%% ---- link_exit: N linked idle children, the driver traps exits; tell every
%% child to stop and time until every {'EXIT', Pid, normal} has arrived.
link_exit(N) ->
    process_flag(trap_exit, true),
    Pids = [spawn_link(fun idle/0) || _ <- lists:seq(1, N)],
    T0 = now_ns(),
    lists:foreach(fun(P) -> P ! stop end, Pids),
    collect_exits(N),
    T1 = now_ns(),
    per_sec(N, T0, T1).

collect_exits(0) -> ok;
collect_exits(K) ->
    receive
        {'EXIT', _, normal} -> collect_exits(K - 1);
        {'EXIT', P, Why} -> error({bad_exit, P, Why})
    end.

%% ---- sup_restart: a one_for_one supervisor with one gen_server child that
%% announces itself from init/1 and stops on a `crash` cast; N cycles of
%% crash -> restart -> announce.
sup_restart(N) ->
    {ok, Sup} = rusm_bench_sup:start_link(self(), N),
    P0 = receive {started, P} -> P end,
    T0 = now_ns(),
    sup_cycles(N, P0),
    T1 = now_ns(),
    unlink(Sup),
    Ref = monitor(process, Sup),
    exit(Sup, shutdown),
    receive {'DOWN', Ref, process, Sup, _} -> ok end,
    per_sec(N, T0, T1).

sup_cycles(0, _) -> ok;
sup_cycles(K, P) ->
    gen_server:cast(P, crash),
    receive
        {started, P2} when P2 =/= P -> sup_cycles(K - 1, P2)
    end.

%% ---- call_rtt: N sequential gen_server:call round trips.
call_rtt(N) ->
    {ok, S} = rusm_bench_srv:start_link(none),
    T0 = now_ns(),
    call_loop(S, N),
    T1 = now_ns(),
    ok = gen_server:stop(S),
    per_sec(N, T0, T1).

call_loop(_, 0) -> ok;
call_loop(S, K) ->
    K = gen_server:call(S, {echo, K}),
    call_loop(S, K - 1).
