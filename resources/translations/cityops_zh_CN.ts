<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddFeedDialog</name>
    <message>
        <source>Add MQTT feed</source>
        <translation>添加 MQTT 数据源</translation>
    </message>
    <message>
        <source>e.g. noise-east</source>
        <translation>例如 noise-east</translation>
    </message>
    <message>
        <source>e.g. yiyang/env/noise/#</source>
        <translation>例如 yiyang/env/noise/#</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>名称(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Broker</source>
        <translation>消息代理(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Topic filter</source>
        <translation>主题过滤(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Format</source>
        <translation>格式(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Domain</source>
        <translation>领域(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;QoS</source>
        <translation>QoS(&amp;Q)</translation>
    </message>
</context>
<context>
    <name>AlarmFilter</name>
    <message>
        <source>Show alarms of this priority</source>
        <translation>显示此优先级的告警</translation>
    </message>
    <message>
        <source>Any priority</source>
        <translation>任意优先级</translation>
    </message>
    <message>
        <source>Show alarms in this state</source>
        <translation>显示处于此状态的告警</translation>
    </message>
    <message>
        <source>Any state</source>
        <translation>任意状态</translation>
    </message>
    <message>
        <source>Show alarms whose source is in this domain</source>
        <translation>显示来源属于此领域的告警</translation>
    </message>
    <message>
        <source>Any domain</source>
        <translation>任意领域</translation>
    </message>
    <message>
        <source>Filter: name, id, metric…</source>
        <translation>筛选：名称、编号、指标…</translation>
    </message>
    <message>
        <source>Show alarms whose source, metric or message has these words</source>
        <translation>显示来源、指标或消息包含这些词的告警</translation>
    </message>
    <message>
        <source>Apply a saved filter</source>
        <translation>应用已保存的筛选</translation>
    </message>
    <message>
        <source>Save…</source>
        <translation>保存…</translation>
    </message>
    <message>
        <source>Save this filter as a preset</source>
        <translation>将此筛选保存为预设</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete the chosen preset</source>
        <translation>删除所选预设</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Show every alarm</source>
        <translation>显示全部告警</translation>
    </message>
    <message>
        <source>Presets…</source>
        <translation>预设…</translation>
    </message>
    <message>
        <source>Save filter preset</source>
        <translation>保存筛选预设</translation>
    </message>
    <message>
        <source>Preset name:</source>
        <translation>预设名称：</translation>
    </message>
</context>
<context>
    <name>AlarmKpis</name>
    <message>
        <source>acceptable (benchmark: about 1 per 10 min)</source>
        <translation>可接受（基准：每 10 分钟约 1 条）</translation>
    </message>
    <message>
        <source>manageable (above 1, at most 2 per 10 min)</source>
        <translation>可管理（每 10 分钟多于 1 条、至多 2 条）</translation>
    </message>
    <message>
        <source>over the manageable rate (more than 2 per 10 min)</source>
        <translation>超出可管理速率（每 10 分钟多于 2 条）</translation>
    </message>
    <message>
        <source>no raises yet</source>
        <translation>尚无告警产生</translation>
    </message>
    <message>
        <source>above the guideline</source>
        <translation>高于指导值</translation>
    </message>
    <message>
        <source>below the guideline</source>
        <translation>低于指导值</translation>
    </message>
    <message>
        <source>near the guideline</source>
        <translation>接近指导值</translation>
    </message>
    <message>
        <source>Alarm rate (EEMUA 191)</source>
        <translation>告警速率（EEMUA 191）</translation>
    </message>
    <message>
        <source>Last 10 min:</source>
        <translation>最近 10 分钟：</translation>
    </message>
    <message>
        <source>Mean over the hour:</source>
        <translation>一小时平均：</translation>
    </message>
    <message>
        <source>Flood:</source>
        <translation>告警泛滥：</translation>
    </message>
    <message>
        <source>Alarms:</source>
        <translation>告警：</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Raises (24 h)</source>
        <translation>产生次数（24 小时）</translation>
    </message>
    <message>
        <source>Most frequent alarms (24 h)</source>
        <translation>最频繁的告警（24 小时）</translation>
    </message>
    <message>
        <source>Chattering (3 or more raises in 1 min)</source>
        <translation>抖动告警（1 分钟内产生 3 次或以上）</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Raises</source>
        <translation>产生次数</translation>
    </message>
    <message>
        <source>Share (guideline)</source>
        <translation>占比（指导值）</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>评价</translation>
    </message>
    <message>
        <source>Priority distribution (24 h)</source>
        <translation>优先级分布（24 小时）</translation>
    </message>
    <message>
        <source>Export alarm KPIs…</source>
        <translation>导出告警 KPI…</translation>
    </message>
    <message>
        <source>Write these figures to a JSON file</source>
        <translation>将这些数据导出为文件</translation>
    </message>
    <message>
        <source>waiting for the first figures</source>
        <translation>等待首批数据</translation>
    </message>
    <message>
        <source>{count} raised — {band}</source>
        <translation>已产生 {count} 条 — {band}</translation>
    </message>
    <message>
        <source>{rate} per 10 min — {band}</source>
        <translation>每 10 分钟 {rate} 条 — {band}</translation>
    </message>
    <message>
        <source>ALARM FLOOD since {since}</source>
        <translation>告警泛滥，自 {since} 起</translation>
    </message>
    <message>
        <source>no flood (starts above 10 in 10 min, ends below 5)</source>
        <translation>无告警泛滥（10 分钟内超过 10 条时开始，低于 5 条时结束）</translation>
    </message>
    <message>
        <source>{active} active · {standing} standing · {stale} stale · {shelved} shelved · {suppressed} suppressed · {out_of_service} out of service</source>
        <translation>{active} 条活动 · {standing} 条长期 · {stale} 条陈旧 · {shelved} 条搁置 · {suppressed} 条抑制 · {out_of_service} 条停用</translation>
    </message>
    <message>
        <source>Standing: active for more than 24 h. Stale: waiting for acknowledgement for more than 24 h.</source>
        <translation>长期：活动超过 24 小时。陈旧：等待确认超过 24 小时。</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>{count} raises in 24 h · as of {time}</source>
        <translation>24 小时内产生 {count} 次 · 截至 {time}</translation>
    </message>
    <message>
        <source>{high} + {critical}</source>
        <translation>{high} + {critical}</translation>
    </message>
    <message>
        <source>{share} % ({guideline} %)</source>
        <translation>{share} %（{guideline} %）</translation>
    </message>
</context>
<context>
    <name>AlarmSound</name>
    <message>
        <source>Silence the alarms sounding now; a new alarm sounds again</source>
        <translation>静音当前正在响的告警；新告警会再次发声</translation>
    </message>
    <message>
        <source>Alarm sounds are off here ([app] sound in the config)</source>
        <translation>此处告警声音已关闭（配置中的 [app] sound）</translation>
    </message>
</context>
<context>
    <name>AlarmState</name>
    <message>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Unacknowledged</source>
        <translation>未确认</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Cleared, unack.</source>
        <translation>已恢复，未确认</translation>
    </message>
    <message>
        <source>Shelved</source>
        <translation>已搁置</translation>
    </message>
    <message>
        <source>Suppressed</source>
        <translation>已抑制</translation>
    </message>
    <message>
        <source>Out of service</source>
        <translation>已停用</translation>
    </message>
</context>
<context>
    <name>AlarmSummary</name>
    <message>
        <source>Active alarms</source>
        <translation>活动告警</translation>
    </message>
    <message>
        <source>Newest waiting for acknowledgement</source>
        <translation>最新的待确认告警</translation>
    </message>
    <message>
        <source>{time}  {priority}  {entity}: {message}</source>
        <translation>{time}  {priority}  {entity}：{message}</translation>
    </message>
</context>
<context>
    <name>AlarmTable</name>
    <message>
        <source> (stale)</source>
        <translation>（数据过期）</translation>
    </message>
    <message>
        <source>out of service ({user})</source>
        <translation>已停用（{user}）</translation>
    </message>
    <message>
        <source>until it clears</source>
        <translation>直到恢复正常</translation>
    </message>
    <message>
        <source>first out of {count}</source>
        <translation>首发（共 {count} 条）</translation>
    </message>
    <message>
        <source>Chattering: raised 3 or more times within a minute</source>
        <translation>振荡告警：一分钟内触发 3 次或以上</translation>
    </message>
    <message>
        <source>last update {time}</source>
        <translation>最后更新 {time}</translation>
    </message>
    <message>
        <source>taken out of service by {user}</source>
        <translation>由 {user} 停用</translation>
    </message>
    <message>
        <source>shelved by {user}</source>
        <translation>由 {user} 搁置</translation>
    </message>
    <message>
        <source>Raised within {seconds:g} s of each other in the same domain; the first is often the cause (sort by this column to keep a burst together)</source>
        <translation>同一领域内 {seconds:g} 秒内相继发生；第一条往往是原因（按此列排序可让同一批报警排在一起）</translation>
    </message>
    <message>
        <source>{count} comment(s) on this occurrence</source>
        <translation>本次发生有 {count} 条备注</translation>
    </message>
    <message>
        <source>acknowledged by {user} at {time}</source>
        <translation>{user} 于 {time} 确认</translation>
    </message>
    <message>
        <source>acknowledged at {time}</source>
        <translation>于 {time} 确认</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Acknowledge the selected alarms (Ctrl+K)</source>
        <translation>确认所选告警（Ctrl+K）</translation>
    </message>
    <message>
        <source>Acknowledge with note…</source>
        <translation>带备注确认…</translation>
    </message>
    <message>
        <source>Acknowledge the selected alarms with a note for the journal (Ctrl+Shift+K)</source>
        <translation>确认所选告警并为日志写备注 (Ctrl+Shift+K)</translation>
    </message>
    <message>
        <source>Shelve…</source>
        <translation>搁置…</translation>
    </message>
    <message>
        <source>Shelve the selected alarms for a time, with a reason (S)</source>
        <translation>按时长搁置所选告警并注明原因 (S)</translation>
    </message>
    <message>
        <source>Unshelve</source>
        <translation>取消搁置</translation>
    </message>
    <message>
        <source>Return the selected shelved alarms to the list (U)</source>
        <translation>让所选已搁置告警回到列表 (U)</translation>
    </message>
    <message>
        <source>Comment…</source>
        <translation>备注…</translation>
    </message>
    <message>
        <source>Add a comment to the selected alarms for everyone (C)</source>
        <translation>为所选报警添加所有人可见的备注 (C)</translation>
    </message>
    <message>
        <source>Assign…</source>
        <translation>指派…</translation>
    </message>
    <message>
        <source>Assign the selected alarms to a person (A)</source>
        <translation>将所选报警指派给某人 (A)</translation>
    </message>
    <message>
        <source>Take out of service…</source>
        <translation>停用…</translation>
    </message>
    <message>
        <source>Stop announcing the selected alarms until a supervisor returns them (supervisors; a reason is asked)</source>
        <translation>停止通报所选报警，直到值班主管恢复（仅主管；需填写原因）</translation>
    </message>
    <message>
        <source>Return to service</source>
        <translation>恢复使用</translation>
    </message>
    <message>
        <source>Announce the selected out-of-service alarms again</source>
        <translation>重新通报所选已停用的报警</translation>
    </message>
    <message>
        <source>Replay from its raise</source>
        <translation>从产生时回放</translation>
    </message>
    <message>
        <source>Show the city as it was when this alarm was raised</source>
        <translation>显示此告警产生时的城市状态</translation>
    </message>
    <message>
        <source>Acknowledge all visible</source>
        <translation>确认全部可见告警</translation>
    </message>
    <message>
        <source>Acknowledge every alarm listed that needs it</source>
        <translation>确认列表中所有待确认的告警</translation>
    </message>
    <message>
        <source>&amp;Flash unacknowledged alarms</source>
        <translation>闪烁未确认告警(&amp;F)</translation>
    </message>
    <message>
        <source>Unacknowledged rows alternate bold and marked every half second (the State column says Unacknowledged either way)</source>
        <translation>未确认的行每半秒在粗体与标记之间交替（无论如何，状态列都显示“未确认”）</translation>
    </message>
    <message>
        <source>Acknowledge with note</source>
        <translation>带备注确认</translation>
    </message>
    <message>
        <source>Note for the {count} selected alarm(s):</source>
        <translation>所选 {count} 条告警的备注：</translation>
    </message>
    <message>
        <source>Take out of service</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>Why do the {count} selected alarm(s) go out of service?</source>
        <translation>所选 {count} 条报警停用的原因？</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Comment on the {count} selected alarm(s), seen by every workstation:</source>
        <translation>对所选 {count} 条报警的备注（所有工作站可见）：</translation>
    </message>
    <message>
        <source>Assign</source>
        <translation>指派</translation>
    </message>
    <message>
        <source>Assign the {count} selected alarm(s) to (empty: nobody):</source>
        <translation>将所选 {count} 条报警指派给（留空：无人）：</translation>
    </message>
    <message>
        <source>Acknowledge all {count} listed alarms that need it?
Alarms hidden by the filter stay as they are.</source>
        <translation>确认全部 {count} 条列出的待确认告警？
被筛选隐藏的告警保持不变。</translation>
    </message>
    <message>
        <source>{count} active</source>
        <translation>{count} 条活动</translation>
    </message>
    <message>
        <source>{count} unacknowledged</source>
        <translation>{count} 条未确认</translation>
    </message>
    <message>
        <source>{count} hidden by the filter</source>
        <translation>{count} 条被筛选隐藏</translation>
    </message>
</context>
<context>
    <name>BarChart</name>
    <message>
        <source>No data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>{label} ({priority})</source>
        <translation>{label}（{priority}）</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <source>Severity</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Entity</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>Metric</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Condition</source>
        <translation>条件</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <source>Raised</source>
        <translation>产生时间</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>次数</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Shelved until</source>
        <translation>搁置至</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>备注数</translation>
    </message>
    <message>
        <source>First out</source>
        <translation>首发</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Topic</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Payload excerpt</source>
        <translation>报文摘录</translation>
    </message>
    <message>
        <source>Feed</source>
        <translation>数据源</translation>
    </message>
    <message>
        <source>Last message</source>
        <translation>最后消息</translation>
    </message>
    <message>
        <source>Rate (msg/s)</source>
        <translation>速率（条/秒）</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>消息数</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误数</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Owner</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Opened</source>
        <translation>开启时间</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>更新时间</translation>
    </message>
    <message>
        <source>What</source>
        <translation>事项</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>人员</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
</context>
<context>
    <name>Condition</name>
    <message>
        <source>Low-low</source>
        <translation>低低限</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>低限</translation>
    </message>
    <message>
        <source>High</source>
        <translation>高限</translation>
    </message>
    <message>
        <source>High-high</source>
        <translation>高高限</translation>
    </message>
    <message>
        <source>External</source>
        <translation>外部</translation>
    </message>
    <message>
        <source>No data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>Rate of change</source>
        <translation>变化率</translation>
    </message>
    <message>
        <source>Geofence</source>
        <translation>地理围栏</translation>
    </message>
</context>
<context>
    <name>Config</name>
    <message>
        <source>Yiyang Integrated Command Platform</source>
        <translation>益阳市综合指挥平台</translation>
    </message>
    <message>
        <source>Worst AQI</source>
        <translation>最差 AQI</translation>
    </message>
    <message>
        <source>Mean PM2.5</source>
        <translation>平均 PM2.5</translation>
    </message>
    <message>
        <source>Zi River peak level</source>
        <translation>资江最高水位</translation>
    </message>
    <message>
        <source>Mean road occupancy</source>
        <translation>平均道路占有率</translation>
    </message>
    <message>
        <source>Worst bus delay</source>
        <translation>公交最大延误</translation>
    </message>
    <message>
        <source>Free parking</source>
        <translation>空闲车位</translation>
    </message>
    <message>
        <source>Active incidents</source>
        <translation>进行中事件</translation>
    </message>
    <message>
        <source>Longest clinic queue</source>
        <translation>诊所最长排队</translation>
    </message>
    <message>
        <source>Fullest waste bin</source>
        <translation>垃圾桶最满</translation>
    </message>
    <message>
        <source>Mean PM2.5 over Heshan</source>
        <translation>赫山区 PM2.5 均值</translation>
    </message>
    <message>
        <source>Mean PM2.5 over Ziyang</source>
        <translation>资阳区 PM2.5 均值</translation>
    </message>
    <message>
        <source>Vehicles entering the city</source>
        <translation>入城车辆</translation>
    </message>
    <message>
        <source>per minute</source>
        <translation>辆/分钟</translation>
    </message>
    <message>
        <source>Alarms by district</source>
        <translation>各区告警</translation>
    </message>
    <message>
        <source>Alarms by domain</source>
        <translation>各领域告警</translation>
    </message>
    <message>
        <source>Busiest checkpoints</source>
        <translation>最繁忙检查站</translation>
    </message>
    <message>
        <source>City overview</source>
        <translation>城市总览</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>环境</translation>
    </message>
    <message>
        <source>Fullest pump sumps</source>
        <translation>水位最高的泵站集水井</translation>
    </message>
    <message>
        <source>Most delayed buses</source>
        <translation>延误最多的公交</translation>
    </message>
    <message>
        <source>PM2.5 by district</source>
        <translation>各区 PM2.5</translation>
    </message>
    <message>
        <source>Priority 1 and 2 alarms</source>
        <translation>1 级和 2 级告警</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>交通</translation>
    </message>
    <message>
        <source>Water</source>
        <translation>水务</translation>
    </message>
    <message>
        <source>Water alarms</source>
        <translation>水务告警</translation>
    </message>
    <message>
        <source>Worst PM2.5 stations</source>
        <translation>PM2.5 最差站点</translation>
    </message>
    <message>
        <source>Yiyang</source>
        <translation>益阳</translation>
    </message>
    <message>
        <source>Zi River levels</source>
        <translation>资江水位</translation>
    </message>
    <message>
        <source>spaces</source>
        <translation>个车位</translation>
    </message>
    <message>
        <source>patients</source>
        <translation>人</translation>
    </message>
</context>
<context>
    <name>DashboardTrend</name>
    <message>
        <source>STALE</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>warn {value}</source>
        <translation>预警 {value}</translation>
    </message>
    <message>
        <source>alarm {value}</source>
        <translation>告警 {value}</translation>
    </message>
</context>
<context>
    <name>Dashboards</name>
    <message>
        <source>{name} — CityOps</source>
        <translation>{name} — CityOps</translation>
    </message>
    <message>
        <source>This widget cannot be shown: {problem}</source>
        <translation>此部件无法显示：{problem}</translation>
    </message>
    <message>
        <source>{title}: a {kind} widget is not built yet</source>
        <translation>{title}：{kind} 类部件尚未实现</translation>
    </message>
    <message>
        <source>&amp;Dashboards</source>
        <translation>仪表盘(&amp;D)</translation>
    </message>
    <message>
        <source>None in the config ([[dashboards]])</source>
        <translation>配置中没有（[[dashboards]]）</translation>
    </message>
</context>
<context>
    <name>DeadLetters</name>
    <message>
        <source>Received at {time}</source>
        <translation>接收于 {time}</translation>
    </message>
</context>
<context>
    <name>Domain</name>
    <message>
        <source>traffic</source>
        <translation>交通</translation>
    </message>
    <message>
        <source>environment</source>
        <translation>环境</translation>
    </message>
    <message>
        <source>water</source>
        <translation>水务</translation>
    </message>
    <message>
        <source>energy</source>
        <translation>能源</translation>
    </message>
    <message>
        <source>safety</source>
        <translation>公共安全</translation>
    </message>
    <message>
        <source>transport</source>
        <translation>公共交通</translation>
    </message>
    <message>
        <source>health</source>
        <translation>卫生健康</translation>
    </message>
    <message>
        <source>city</source>
        <translation>城市</translation>
    </message>
    <message>
        <source>other</source>
        <translation>其他</translation>
    </message>
</context>
<context>
    <name>EntityDetails</name>
    <message>
        <source> (stale)</source>
        <translation>（数据过期）</translation>
    </message>
    <message>
        <source>Id</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Domain</source>
        <translation>领域</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Feed</source>
        <translation>数据源</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>更新时间</translation>
    </message>
    <message>
        <source>Metric</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Last hour</source>
        <translation>最近一小时</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>限值</translation>
    </message>
    <message>
        <source>Select a station on the map, in the alarm list or with Ctrl+F</source>
        <translation>在地图、告警列表中或用 Ctrl+F 选择站点</translation>
    </message>
    <message>
        <source>Active alarms</source>
        <translation>活动告警</translation>
    </message>
    <message>
        <source>STALE</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>no location</source>
        <translation>无位置</translation>
    </message>
    <message>
        <source>    What to do: {guidance}</source>
        <translation>    处置措施：{guidance}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>{feed}: {state}, last message {time}</source>
        <translation>{feed}：{state}，最后消息 {time}</translation>
    </message>
    <message>
        <source>{severity} · {metric} {condition} · {value} (limit {limit}) · {state}</source>
        <translation>{severity} · {metric} {condition} · {value}（限值 {limit}）· {state}</translation>
    </message>
</context>
<context>
    <name>EntityType</name>
    <message>
        <source>air quality station</source>
        <translation>空气质量监测站</translation>
    </message>
    <message>
        <source>water quality station</source>
        <translation>水质监测站</translation>
    </message>
    <message>
        <source>noise monitor</source>
        <translation>噪声监测点</translation>
    </message>
    <message>
        <source>river gauge</source>
        <translation>水位站</translation>
    </message>
    <message>
        <source>pumping station</source>
        <translation>泵站</translation>
    </message>
    <message>
        <source>intersection</source>
        <translation>路口</translation>
    </message>
    <message>
        <source>traffic checkpoint</source>
        <translation>交通卡口</translation>
    </message>
    <message>
        <source>epidemic checkpoint</source>
        <translation>防疫检查点</translation>
    </message>
    <message>
        <source>streetlight</source>
        <translation>路灯</translation>
    </message>
    <message>
        <source>parking lot</source>
        <translation>停车场</translation>
    </message>
    <message>
        <source>waste bin</source>
        <translation>垃圾桶</translation>
    </message>
    <message>
        <source>clinic</source>
        <translation>诊所</translation>
    </message>
    <message>
        <source>bus</source>
        <translation>公交车</translation>
    </message>
    <message>
        <source>camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <source>vehicle</source>
        <translation>车辆</translation>
    </message>
    <message>
        <source>accident</source>
        <translation>事故</translation>
    </message>
    <message>
        <source>fire</source>
        <translation>火灾</translation>
    </message>
    <message>
        <source>alert area</source>
        <translation>预警区域</translation>
    </message>
    <message>
        <source>device</source>
        <translation>设备</translation>
    </message>
</context>
<context>
    <name>FeedHealth</name>
    <message>
        <source>Pause feed</source>
        <translation>暂停数据源</translation>
    </message>
    <message>
        <source>Ask to stop taking messages from the selected feed</source>
        <translation>请求停止接收所选数据源的消息</translation>
    </message>
    <message>
        <source>Resume feed</source>
        <translation>恢复数据源</translation>
    </message>
    <message>
        <source>Ask to take messages from the selected feed again</source>
        <translation>请求重新接收所选数据源的消息</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Copy payload</source>
        <translation>复制报文</translation>
    </message>
    <message>
        <source>Copy the selected dead letter&apos;s payload excerpt</source>
        <translation>复制所选死信的报文摘录</translation>
    </message>
    <message>
        <source>Select a dead letter to see its payload excerpt</source>
        <translation>选择一条死信以查看报文摘录</translation>
    </message>
    <message>
        <source>Dead letters: select a feed</source>
        <translation>死信：请选择数据源</translation>
    </message>
    <message>
        <source>Dead letters of {feed}: {count}</source>
        <translation>{feed} 的死信：{count} 条</translation>
    </message>
    <message>
        <source>1 feed</source>
        <translation>1 个数据源</translation>
    </message>
    <message>
        <source>{count} feeds</source>
        <translation>{count} 个数据源</translation>
    </message>
</context>
<context>
    <name>FeedState</name>
    <message>
        <source>Connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Stale</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>离线</translation>
    </message>
</context>
<context>
    <name>FeedStateWord</name>
    <message>
        <source>connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>stale</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>failing</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>down</source>
        <translation>离线</translation>
    </message>
</context>
<context>
    <name>FeedTable</name>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>No message received yet</source>
        <translation>尚未收到消息</translation>
    </message>
    <message>
        <source>Last message at {time}</source>
        <translation>最后消息于 {time}</translation>
    </message>
    <message>
        <source>{rate} messages per second</source>
        <translation>每秒 {rate} 条消息</translation>
    </message>
</context>
<context>
    <name>Format</name>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message>
        <source>{n} s ago</source>
        <translation>{n} 秒前</translation>
    </message>
    <message>
        <source>{n} min ago</source>
        <translation>{n} 分钟前</translation>
    </message>
    <message>
        <source>{n} h ago</source>
        <translation>{n} 小时前</translation>
    </message>
    <message>
        <source>{n} d ago</source>
        <translation>{n} 天前</translation>
    </message>
    <message>
        <source>{n} s</source>
        <translation>{n} 秒</translation>
    </message>
    <message>
        <source>{n} min</source>
        <translation>{n} 分钟</translation>
    </message>
    <message>
        <source>{n} h</source>
        <translation>{n} 小时</translation>
    </message>
    <message>
        <source>{n} d</source>
        <translation>{n} 天</translation>
    </message>
    <message>
        <source>inside</source>
        <translation>在内</translation>
    </message>
    <message>
        <source>outside</source>
        <translation>在外</translation>
    </message>
    <message>
        <source>{n}/min</source>
        <translation>{n}/分钟</translation>
    </message>
</context>
<context>
    <name>Freshness</name>
    <message>
        <source>NOT LIVE — {reasons}</source>
        <translation>非实时 — {reasons}</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source>FEED DOWN since {time} — {reasons}</source>
        <translation>数据源中断，自 {time} 起 — {reasons}</translation>
    </message>
    <message>
        <source>broker {name} {state} since {time}</source>
        <translation>消息代理 {name} 自 {time} 起{state}</translation>
    </message>
    <message>
        <source>feed {name} {state} since {time}</source>
        <translation>数据源 {name} 自 {time} 起{state}</translation>
    </message>
    <message>
        <source>{count} more feeds not live</source>
        <translation>另有 {count} 个数据源非实时</translation>
    </message>
    <message>
        <source>{count} feeds cut off</source>
        <translation>{count} 个数据源已断开</translation>
    </message>
    <message>
        <source>1 feed cut off</source>
        <translation>1 个数据源已断开</translation>
    </message>
    <message>
        <source>showing the last known state from the cache ({count} entities)</source>
        <translation>正在显示离线缓存中的最后已知状态（{count} 个对象）</translation>
    </message>
    <message>
        <source>no live data yet</source>
        <translation>尚无实时数据</translation>
    </message>
</context>
<context>
    <name>Gauge</name>
    <message>
        <source>HIGH</source>
        <translation>高限</translation>
    </message>
    <message>
        <source>HIGH-HIGH</source>
        <translation>高高限</translation>
    </message>
    <message>
        <source>LOW</source>
        <translation>低限</translation>
    </message>
    <message>
        <source>LOW-LOW</source>
        <translation>低低限</translation>
    </message>
    <message>
        <source>stale</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>above scale</source>
        <translation>超量程</translation>
    </message>
    <message>
        <source>below scale</source>
        <translation>欠量程</translation>
    </message>
</context>
<context>
    <name>HandoverReport</name>
    <message>
        <source>Handover report</source>
        <translation>交接班报告</translation>
    </message>
    <message>
        <source>This shift</source>
        <translation>本班次</translation>
    </message>
    <message>
        <source>Last 8 hours</source>
        <translation>最近 8 小时</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>最近 24 小时</translation>
    </message>
    <message>
        <source>Custom…</source>
        <translation>自定义…</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Make report</source>
        <translation>生成报告</translation>
    </message>
    <message>
        <source>Window:</source>
        <translation>时间窗：</translation>
    </message>
    <message>
        <source>From:</source>
        <translation>开始时间：</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>结束时间：</translation>
    </message>
    <message>
        <source>File (.pdf or .html):</source>
        <translation>文件（.pdf 或 .html）：</translation>
    </message>
    <message>
        <source>Save the handover report</source>
        <translation>保存交接班报告</translation>
    </message>
    <message>
        <source>PDF (*.pdf);;HTML (*.html)</source>
        <translation>PDF 文件 (*.pdf);;HTML 文件 (*.html)</translation>
    </message>
    <message>
        <source>The window must start before it ends.</source>
        <translation>时间窗的开始时间必须早于结束时间。</translation>
    </message>
    <message>
        <source>Choose a file ending in .pdf or .html.</source>
        <translation>请选择以 .pdf 或 .html 结尾的文件。</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>文件夹 {folder} 不存在。</translation>
    </message>
    <message>
        <source>Could not write {path}: {error}</source>
        <translation>无法写入 {path}：{error}</translation>
    </message>
    <message>
        <source>There is no offline cache to make a report from.</source>
        <translation>没有可用于生成报告的离线缓存。</translation>
    </message>
    <message>
        <source>Making the handover report…</source>
        <translation>正在生成交接班报告…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Handover report written to {path}</source>
        <translation>交接班报告已写入 {path}</translation>
    </message>
    <message>
        <source>The handover report could not be made:
{reason}</source>
        <translation>无法生成交接班报告：
{reason}</translation>
    </message>
    <message>
        <source>Handover report cancelled</source>
        <translation>已取消生成交接班报告</translation>
    </message>
    <message>
        <source>Shift handover — {title}</source>
        <translation>交接班 — {title}</translation>
    </message>
    <message>
        <source>{since} to {until} ({duration})</source>
        <translation>{since} 至 {until}（{duration}）</translation>
    </message>
    <message>
        <source>Made {when} from the offline cache.</source>
        <translation>于 {when} 根据离线缓存生成。</translation>
    </message>
    <message>
        <source>The window holds more alarm history than one report reads: the counts are partial; choose a shorter window.</source>
        <translation>此时间窗内的告警历史超出单份报告的读取上限：统计数字不完整，请选择更短的时间窗。</translation>
    </message>
    <message>
        <source>Alarms raised</source>
        <translation>已产生告警</translation>
    </message>
    <message>
        <source>Alarms acknowledged</source>
        <translation>已确认告警</translation>
    </message>
    <message>
        <source>Alarms cleared</source>
        <translation>已恢复告警</translation>
    </message>
    <message>
        <source>Operator actions on alarms</source>
        <translation>值班员对告警的操作</translation>
    </message>
    <message>
        <source>Readings stored</source>
        <translation>已存储读数</translation>
    </message>
    <message>
        <source>Incidents opened</source>
        <translation>已开启事件</translation>
    </message>
    <message>
        <source>Incidents closed</source>
        <translation>已关闭事件</translation>
    </message>
    <message>
        <source>Alarms to hand over (unacknowledged)</source>
        <translation>待交接告警（未确认）</translation>
    </message>
    <message>
        <source>Figure</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Raised</source>
        <translation>产生时间</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Raises in window</source>
        <translation>时间窗内产生次数</translation>
    </message>
    <message>
        <source>Alarms to hand over</source>
        <translation>待交接告警</translation>
    </message>
    <message>
        <source>None: every alarm was acknowledged.</source>
        <translation>无：所有告警均已确认。</translation>
    </message>
    <message>
        <source>Still waiting for an acknowledgement at the end of the window.</source>
        <translation>时间窗结束时仍在等待确认。</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>未关闭</translation>
    </message>
    <message>
        <source>Closed in the window</source>
        <translation>时间窗内已关闭</translation>
    </message>
    <message>
        <source>None.</source>
        <translation>无。</translation>
    </message>
    <message>
        <source>{status} · priority {priority} · opened {opened} by {who} · owner {owner}</source>
        <translation>{status} · 优先级 {priority} · {opened} 由 {who} 开启 · 负责人 {owner}</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>无人</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>What</source>
        <translation>事项</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>人员</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Alarms raised by priority and domain</source>
        <translation>按优先级和领域统计的已产生告警</translation>
    </message>
    <message>
        <source>Alarms raised by priority</source>
        <translation>按优先级统计的已产生告警</translation>
    </message>
    <message>
        <source>Domain</source>
        <translation>领域</translation>
    </message>
    <message>
        <source>high and critical</source>
        <translation>高和紧急</translation>
    </message>
    <message>
        <source>{group} {share} %</source>
        <translation>{group} {share} %</translation>
    </message>
    <message>
        <source>Mean rate (raises per 10 min)</source>
        <translation>平均速率（每 10 分钟产生次数）</translation>
    </message>
    <message>
        <source>{rate}: {band}</source>
        <translation>{rate}：{band}</translation>
    </message>
    <message>
        <source>Raises in the last 10 min of the window</source>
        <translation>时间窗最后 10 分钟内产生次数</translation>
    </message>
    <message>
        <source>Flood at the end</source>
        <translation>结束时告警泛滥</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Active at the end</source>
        <translation>结束时活动</translation>
    </message>
    <message>
        <source>Standing (active &gt; 24 h)</source>
        <translation>长期（活动超过 24 小时）</translation>
    </message>
    <message>
        <source>Stale (unacknowledged &gt; 24 h)</source>
        <translation>陈旧（未确认超过 24 小时）</translation>
    </message>
    <message>
        <source>Shelved at the end</source>
        <translation>结束时已搁置</translation>
    </message>
    <message>
        <source>Suppressed at the end</source>
        <translation>结束时已抑制</translation>
    </message>
    <message>
        <source>Out of service at the end</source>
        <translation>结束时已停用</translation>
    </message>
    <message>
        <source>Chattering alarms</source>
        <translation>抖动告警</translation>
    </message>
    <message>
        <source>Priority shares (guideline: low 80, medium 15, high 5)</source>
        <translation>优先级占比（指导值：低 80，中 15，高 5）</translation>
    </message>
    <message>
        <source>Standing alarms</source>
        <translation>长期告警</translation>
    </message>
    <message>
        <source>Active at the end of the window and raised before it began or more than 24 h before its end.</source>
        <translation>在时间窗结束时仍处于活动状态，且产生于时间窗开始之前或结束前 24 小时以上。</translation>
    </message>
    <message>
        <source>Raised {count} times or more within {window}.</source>
        <translation>在 {window} 内产生 {count} 次或以上。</translation>
    </message>
    <message>
        <source>No KPIs are configured.</source>
        <translation>未配置 KPI。</translation>
    </message>
    <message>
        <source>{name} ({aggregate} of {metric} over {count} entities)</source>
        <translation>{name}（{count} 个对象的 {metric} {aggregate}）</translation>
    </message>
    <message>
        <source>min {low}, max {high}</source>
        <translation>最小 {low}，最大 {high}</translation>
    </message>
    <message>
        <source>The city at the end of the window</source>
        <translation>时间窗结束时的城市</translation>
    </message>
    <message>
        <source>No entity positions are known.</source>
        <translation>没有已知的对象位置。</translation>
    </message>
    <message>
        <source>Grey dots: no alarm. Alarms: 1 critical (octagon), 2 high (diamond), 3 medium (triangle), 4 low (square), each with its number.</source>
        <translation>灰点：无告警。告警：1 紧急（八边形），2 高（菱形），3 中（三角形），4 低（正方形），均标有对应数字。</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>Sign-ins</source>
        <translation>登录记录</translation>
    </message>
    <message>
        <source>signed in</source>
        <translation>已登录</translation>
    </message>
    <message>
        <source>signed out</source>
        <translation>已退出登录</translation>
    </message>
    <message>
        <source>sign-in failed</source>
        <translation>登录失败</translation>
    </message>
    <message>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Workstation</source>
        <translation>工作站</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>动作</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
</context>
<context>
    <name>Incident</name>
    <message>
        <source>{priority} · {word}</source>
        <translation>{priority} · {word}</translation>
    </message>
</context>
<context>
    <name>IncidentDialog</name>
    <message>
        <source>Open incident from {count} alarm(s)</source>
        <translation>由 {count} 条报警开启事件</translation>
    </message>
    <message>
        <source>Open incident</source>
        <translation>开启事件</translation>
    </message>
    <message>
        <source>What happened, e.g. smoke over Heshan district</source>
        <translation>发生了什么，例如：赫山区上空冒烟</translation>
    </message>
    <message>
        <source>First note (optional)</source>
        <translation>首条备注（可选）</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>优先级：</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
</context>
<context>
    <name>IncidentStatus</name>
    <message>
        <source>Open</source>
        <translation>已开启</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>处理中</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已解决</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已关闭</translation>
    </message>
</context>
<context>
    <name>Incidents</name>
    <message>
        <source>Open &amp;incident from selection…</source>
        <translation>由所选报警开启事件(&amp;I)…</translation>
    </message>
    <message>
        <source>Open an incident grouping the selected alarms, asking its title and priority (Ctrl+I)</source>
        <translation>将所选报警归入一个新事件，并询问标题和优先级 (Ctrl+I)</translation>
    </message>
    <message>
        <source>Incident not changed</source>
        <translation>事件未更改</translation>
    </message>
    <message>
        <source>Incident opened</source>
        <translation>事件已开启</translation>
    </message>
    <message>
        <source>Incident updated</source>
        <translation>事件已更新</translation>
    </message>
    <message>
        <source>Alarms linked to the incident</source>
        <translation>报警已关联到事件</translation>
    </message>
    <message>
        <source>Note added to the incident</source>
        <translation>已为事件添加备注</translation>
    </message>
    <message>
        <source>Select the alarms to link in the alarm list first</source>
        <translation>请先在报警列表中选择要关联的报警</translation>
    </message>
    <message>
        <source>That alarm is not in the list any more (back to normal)</source>
        <translation>该报警已不在列表中（已恢复正常）</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>无人</translation>
    </message>
    <message>
        <source>Opened by {user} at {time}</source>
        <translation>由 {user} 于 {time} 开启</translation>
    </message>
    <message>
        <source>Show closed</source>
        <translation>显示已关闭</translation>
    </message>
    <message>
        <source>New incident…</source>
        <translation>新建事件…</translation>
    </message>
    <message>
        <source>Open an incident without alarms (Ctrl+I in the alarm list opens one from the selected alarms)</source>
        <translation>开启一个不含报警的事件（在报警列表中按 Ctrl+I 可由所选报警开启）</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>Show the city as it was when the selected incident opened</source>
        <translation>显示所选事件开启时的城市状态</translation>
    </message>
    <message>
        <source>Start work</source>
        <translation>开始处理</translation>
    </message>
    <message>
        <source>Someone is working on it: in progress</source>
        <translation>有人正在处理：处理中</translation>
    </message>
    <message>
        <source>Resolve</source>
        <translation>解决</translation>
    </message>
    <message>
        <source>The situation is under control: resolved</source>
        <translation>情况已受控：已解决</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Close it for good (supervisors only)</source>
        <translation>最终关闭（仅主管）</translation>
    </message>
    <message>
        <source>Reopen</source>
        <translation>重新开启</translation>
    </message>
    <message>
        <source>Back to open (a closed one: supervisors only)</source>
        <translation>恢复为开启（已关闭的事件：仅主管）</translation>
    </message>
    <message>
        <source>Owner…</source>
        <translation>负责人…</translation>
    </message>
    <message>
        <source>Hand it to someone (empty: nobody)</source>
        <translation>交给某人（留空：无人）</translation>
    </message>
    <message>
        <source>Priority…</source>
        <translation>优先级…</translation>
    </message>
    <message>
        <source>Change its priority</source>
        <translation>更改优先级</translation>
    </message>
    <message>
        <source>Add note…</source>
        <translation>添加备注…</translation>
    </message>
    <message>
        <source>Write a note on it, for everyone</source>
        <translation>写一条所有人可见的备注</translation>
    </message>
    <message>
        <source>Link alarms</source>
        <translation>关联报警</translation>
    </message>
    <message>
        <source>Add the alarms selected in the alarm list to it</source>
        <translation>将报警列表中所选报警加入此事件</translation>
    </message>
    <message>
        <source>Select an incident, or open one from alarms with Ctrl+I</source>
        <translation>请选择一个事件，或按 Ctrl+I 由报警开启事件</translation>
    </message>
    <message>
        <source>Priority {priority} · {status} · owner {owner} · opened {opened} by {user} · updated {updated} · {alarms} alarm(s), {entities} entities, {notes} note(s)</source>
        <translation>优先级 {priority} · {status} · 负责人 {owner} · {opened} 由 {user} 开启 · 更新于 {updated} · {alarms} 条报警，{entities} 个对象，{notes} 条备注</translation>
    </message>
    <message>
        <source>Owner</source>
        <translation>负责人</translation>
    </message>
    <message>
        <source>Who works on this incident (empty: nobody):</source>
        <translation>谁负责处理此事件（留空：无人）：</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Priority of this incident:</source>
        <translation>此事件的优先级：</translation>
    </message>
    <message>
        <source>Add note</source>
        <translation>添加备注</translation>
    </message>
    <message>
        <source>Note on “{title}”, seen by every workstation:</source>
        <translation>关于“{title}”的备注（所有工作站可见）：</translation>
    </message>
    <message>
        <source>{count} open</source>
        <translation>{count} 个开启</translation>
    </message>
    <message>
        <source>{count} in progress</source>
        <translation>{count} 个处理中</translation>
    </message>
    <message>
        <source>{count} resolved</source>
        <translation>{count} 个已解决</translation>
    </message>
</context>
<context>
    <name>Journal</name>
    <message>
        <source>Last hour</source>
        <translation>最近一小时</translation>
    </message>
    <message>
        <source>Last 8 hours (a shift)</source>
        <translation>最近 8 小时（一个班次）</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>最近 24 小时</translation>
    </message>
    <message>
        <source>Filter: alarm, state, action, person, note…</source>
        <translation>筛选：报警、状态、操作、人员、备注…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save this window&apos;s journal as CSV</source>
        <translation>将此时间窗的日志保存为 CSV</translation>
    </message>
    <message>
        <source>Replay from here</source>
        <translation>从此处回放</translation>
    </message>
    <message>
        <source>Show the city as it was at the selected entry</source>
        <translation>显示所选日志条目时刻的城市状态</translation>
    </message>
    <message>
        <source>{shown} of {total} entries</source>
        <translation>{total} 条中显示 {shown} 条</translation>
    </message>
</context>
<context>
    <name>Kiosk</name>
    <message>
        <source>CityOps wall</source>
        <translation>CityOps 大屏</translation>
    </message>
    <message>
        <source>Active alarms</source>
        <translation>活动告警</translation>
    </message>
    <message>
        <source>{page}: no such page (a dashboard, map or alarms)</source>
        <translation>{page}：没有这个页面（应为仪表板、map 或 alarms）</translation>
    </message>
    <message>
        <source>Leaving kiosk mode needs a supervisor&apos;s sign-in, and this workstation has no accounts (add one with: cityops users add NAME --role supervisor). Stop the program to leave.</source>
        <translation>退出大屏模式需要值班主管登录，但此工作站没有账户（用 cityops users add 名称 --role supervisor 添加）。要退出请停止程序。</translation>
    </message>
    <message>
        <source>A supervisor signs in to leave kiosk mode on this wall.</source>
        <translation>值班主管登录以退出此大屏的大屏模式。</translation>
    </message>
    <message>
        <source>{user} ({role}) may not leave kiosk mode: a supervisor must.</source>
        <translation>{user}（{role}）不能退出大屏模式：须由值班主管退出。</translation>
    </message>
    <message>
        <source>PRIORITY 1 ALARM — {priority}</source>
        <translation>一级告警 — {priority}</translation>
    </message>
    <message>
        <source>{count} PRIORITY 1 ALARMS — {priority}</source>
        <translation>{count} 条一级告警 — {priority}</translation>
    </message>
    <message>
        <source>and {count} more</source>
        <translation>另有 {count} 条</translation>
    </message>
    <message>
        <source>Waiting for acknowledgement at a workstation — the rotation goes on at {time} at the latest</source>
        <translation>等待在工作站确认 — 最迟于 {time} 恢复轮播</translation>
    </message>
    <message>
        <source>{time}  {entity}: {message} ({amount})</source>
        <translation>{time}  {entity}：{message}（{amount}）</translation>
    </message>
</context>
<context>
    <name>KpiTile</name>
    <message>
        <source>WARNING</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>ALARM</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>STALE</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>NO DATA</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>{change} vs 1 h ago</source>
        <translation>较 1 小时前 {change}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>{title} — CityOps</source>
        <translation>{title} — CityOps</translation>
    </message>
    <message>
        <source>[DEMO DATA]</source>
        <translation>［演示数据］</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>KPIs</source>
        <translation>KPI 指标</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Entity details</source>
        <translation>对象详情</translation>
    </message>
    <message>
        <source>Trend</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Feeds</source>
        <translation>数据源</translation>
    </message>
    <message>
        <source>Alarm KPIs</source>
        <translation>告警 KPI</translation>
    </message>
    <message>
        <source>DEMO DATA — simulated Yiyang city, not live city feeds</source>
        <translation>演示数据 — 模拟的益阳城市，非真实城市数据源</translation>
    </message>
    <message>
        <source>Broker: —</source>
        <translation>消息代理：—</translation>
    </message>
    <message>
        <source>{rate} msg/s</source>
        <translation>{rate} 条/秒</translation>
    </message>
    <message>
        <source>Add feed…</source>
        <translation>添加数据源…</translation>
    </message>
    <message>
        <source>Remove feed</source>
        <translation>移除数据源</translation>
    </message>
    <message>
        <source>Feed not added</source>
        <translation>未添加数据源</translation>
    </message>
    <message>
        <source>feeds cannot be changed here</source>
        <translation>此处不能更改数据源</translation>
    </message>
    <message>
        <source>Feed {name!r} added until the app closes</source>
        <translation>已添加数据源 {name!r}，有效至应用关闭</translation>
    </message>
    <message>
        <source>Stop receiving feed {name!r} until the app restarts?</source>
        <translation>在应用重启前停止接收数据源 {name!r}？</translation>
    </message>
    <message>
        <source>Feed not removed</source>
        <translation>未移除数据源</translation>
    </message>
    <message>
        <source>Feed {name!r} removed</source>
        <translation>已移除数据源 {name!r}</translation>
    </message>
    <message>
        <source>ALARM FLOOD since {since} — {count} alarms in 10 min</source>
        <translation>告警泛滥，自 {since} 起 — 10 分钟内 {count} 条告警</translation>
    </message>
    <message>
        <source>Export alarm KPIs</source>
        <translation>导出告警 KPI</translation>
    </message>
    <message>
        <source>JSON files (*.json)</source>
        <translation>JSON 文件 (*.json)</translation>
    </message>
    <message>
        <source>No alarm KPIs yet: nothing exported</source>
        <translation>尚无告警 KPI：未导出任何内容</translation>
    </message>
    <message>
        <source>Alarm KPIs exported to {path}</source>
        <translation>告警 KPI 已导出到 {path}</translation>
    </message>
    <message>
        <source>Filter presets not saved: {error}</source>
        <translation>筛选预设未保存：{error}</translation>
    </message>
    <message>
        <source>REPLAY — not live</source>
        <translation>回放 — 非实时</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>NOT LIVE</source>
        <translation>非实时</translation>
    </message>
    <message>
        <source>OFFLINE CACHE DAMAGED since {since}: {detail} — {backlog} readings waiting in memory</source>
        <translation>离线缓存自 {since} 起损坏：{detail} — {backlog} 条读数在内存中等待</translation>
    </message>
    <message>
        <source>OFFLINE CACHE NOT WRITABLE since {since}: {detail} — {backlog} readings waiting in memory</source>
        <translation>离线缓存自 {since} 起无法写入：{detail} — {backlog} 条读数在内存中等待</translation>
    </message>
    <message>
        <source>, {dropped} dropped</source>
        <translation>，已丢弃 {dropped} 条</translation>
    </message>
    <message>
        <source>; it will be moved aside at the next start</source>
        <translation>；下次启动时将移到一旁</translation>
    </message>
    <message>
        <source>CACHE REPLACED: {text}</source>
        <translation>缓存已替换：{text}</translation>
    </message>
    <message>
        <source>Broker {brokers}</source>
        <translation>消息代理 {brokers}</translation>
    </message>
    <message>
        <source>Feeds: {ok}/{total} ok</source>
        <translation>数据源：{ok}/{total} 正常</translation>
    </message>
    <message>
        <source> · {count} need attention</source>
        <translation> · {count} 个需处理</translation>
    </message>
    <message>
        <source>Config not reloaded (the one in use stays): {problem}</source>
        <translation>配置未重新加载（继续使用当前配置）：{problem}</translation>
    </message>
    <message>
        <source>REPLAY — </source>
        <translation>回放 — </translation>
    </message>
    <message>
        <source>{entity}: not heard of at this moment</source>
        <translation>{entity}：此时尚无数据</translation>
    </message>
    <message>
        <source>Single-user mode: there are no accounts to switch to</source>
        <translation>单用户模式：没有可切换的账户</translation>
    </message>
    <message>
        <source>Signed in: {user}</source>
        <translation>已登录：{user}</translation>
    </message>
    <message>
        <source>the window shows a replay of the past; return to live to act</source>
        <translation>窗口正在显示历史回放；请返回实时后再操作</translation>
    </message>
    <message>
        <source>{user} is signed in as {role}: {permission} needs the {needed} role or higher</source>
        <translation>{user} 以{role}身份登录：“{permission}”需要{needed}或更高角色</translation>
    </message>
    <message>
        <source>Signed in (user · role · workstation)</source>
        <translation>已登录（用户 · 角色 · 工作站）</translation>
    </message>
    <message>
        <source>Not allowed: {why}</source>
        <translation>不允许：{why}</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Not done: {why}</source>
        <translation>未执行：{why}</translation>
    </message>
    <message>
        <source>Shelve failed</source>
        <translation>搁置失败</translation>
    </message>
    <message>
        <source>Unshelve failed</source>
        <translation>取消搁置失败</translation>
    </message>
    <message>
        <source>Comment failed</source>
        <translation>备注失败</translation>
    </message>
    <message>
        <source>Assign failed</source>
        <translation>指派失败</translation>
    </message>
    <message>
        <source>Out of service failed</source>
        <translation>停用失败</translation>
    </message>
    <message>
        <source>Return to service failed</source>
        <translation>恢复使用失败</translation>
    </message>
    <message>
        <source>Acknowledge failed</source>
        <translation>确认失败</translation>
    </message>
    <message>
        <source>; {count} left as they were (not in a state for it)</source>
        <translation>；{count} 条保持不变（状态不适用）</translation>
    </message>
    <message>
        <source>Comment added to {count} alarm(s)</source>
        <translation>已为 {count} 条报警添加备注</translation>
    </message>
    <message>
        <source>Assigned {count} alarm(s)</source>
        <translation>已指派 {count} 条报警</translation>
    </message>
    <message>
        <source>{count} alarm(s) out of service</source>
        <translation>{count} 条报警已停用</translation>
    </message>
    <message>
        <source>{count} alarm(s) back in service</source>
        <translation>{count} 条报警已恢复使用</translation>
    </message>
    <message>
        <source>; {count} left as they were (changed meanwhile, or not in a state for it)</source>
        <translation>；{count} 条保持原样（期间已被更改，或状态不适用）</translation>
    </message>
    <message>
        <source>Acknowledged {count} alarm(s)</source>
        <translation>已确认 {count} 条告警</translation>
    </message>
    <message>
        <source>; {count} already acknowledged by {user}</source>
        <translation>；{count} 条已由 {user} 确认</translation>
    </message>
    <message>
        <source>; {count} needed no acknowledgement</source>
        <translation>；{count} 条无需确认</translation>
    </message>
    <message>
        <source>{name} has no location on the map</source>
        <translation>{name} 在地图上没有位置</translation>
    </message>
    <message>
        <source>Export alarms</source>
        <translation>导出告警</translation>
    </message>
    <message>
        <source>Journal</source>
        <translation>报警日志</translation>
    </message>
    <message>
        <source>Journal not read: {error}</source>
        <translation>未能读取日志：{error}</translation>
    </message>
    <message>
        <source>Export the alarm journal</source>
        <translation>导出报警日志</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Could not write {path}:
{error}</source>
        <translation>无法写入 {path}：
{error}</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Exported {count} journal entries to {path}</source>
        <translation>已将 {count} 条日志导出到 {path}</translation>
    </message>
    <message>
        <source>Nothing was done:
{error}</source>
        <translation>未执行任何操作：
{error}</translation>
    </message>
    <message>
        <source>Shelved {count} alarm(s)</source>
        <translation>已搁置 {count} 条告警</translation>
    </message>
    <message>
        <source>Unshelved {count} alarm(s)</source>
        <translation>已取消搁置 {count} 条告警</translation>
    </message>
    <message>
        <source>Exported {count} alarms to {path}</source>
        <translation>已导出 {count} 条告警到 {path}</translation>
    </message>
    <message>
        <source>Map layers</source>
        <translation>地图图层</translation>
    </message>
</context>
<context>
    <name>MapActions</name>
    <message>
        <source>&amp;Download map for offline use…</source>
        <translation>下载离线地图(&amp;D)…</translation>
    </message>
    <message>
        <source>No base map with a tile server ([[map.basemaps]])</source>
        <translation>没有配置带瓦片服务器的底图（[[map.basemaps]]）</translation>
    </message>
    <message>
        <source>Save map view as &amp;picture…</source>
        <translation>将地图视图另存为图片(&amp;P)…</translation>
    </message>
    <message>
        <source>Save map view as &amp;HTML…</source>
        <translation>将地图视图另存为 HTML(&amp;H)…</translation>
    </message>
    <message>
        <source>Offline map</source>
        <translation>离线地图</translation>
    </message>
    <message>
        <source>This window has no cache folder to keep tiles in.</source>
        <translation>此窗口没有可存放瓦片的缓存文件夹。</translation>
    </message>
    <message>
        <source>Draw the area on the map: press, drag, release (Esc: stop)</source>
        <translation>在地图上画出区域：按下、拖动、松开（Esc：取消）</translation>
    </message>
    <message>
        <source>PNG pictures (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <source>the map has not been drawn yet</source>
        <translation>地图尚未绘制完成</translation>
    </message>
    <message>
        <source>the picture could not be written</source>
        <translation>无法写入图片</translation>
    </message>
    <message>
        <source>HTML files (*.html)</source>
        <translation>HTML 文件 (*.html)</translation>
    </message>
    <message>
        <source>Save map view</source>
        <translation>保存地图视图</translation>
    </message>
    <message>
        <source>Map view saved to {path}</source>
        <translation>地图视图已保存到 {path}</translation>
    </message>
    <message>
        <source>Map view not saved</source>
        <translation>地图视图未保存</translation>
    </message>
    <message>
        <source>Could not write {path}:
{error}</source>
        <translation>无法写入 {path}：
{error}</translation>
    </message>
</context>
<context>
    <name>MapExport</name>
    <message>
        <source>critical</source>
        <translation>紧急</translation>
    </message>
    <message>
        <source>high</source>
        <translation>高</translation>
    </message>
    <message>
        <source>medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>low</source>
        <translation>低</translation>
    </message>
    <message>
        <source>priority {number} ({severity})</source>
        <translation>优先级 {number}（{severity}）</translation>
    </message>
    <message>
        <source>alarm: {priority}</source>
        <translation>报警：{priority}</translation>
    </message>
    <message>
        <source>no recent data</source>
        <translation>近期无数据</translation>
    </message>
    <message>
        <source>base map not included</source>
        <translation>不含底图</translation>
    </message>
    <message>
        <source>heat layer not included</source>
        <translation>不含热力图层</translation>
    </message>
    <message>
        <source>entities: {entities} · in alarm: {alarms} · alert areas: {areas}</source>
        <translation>实体：{entities} · 报警中：{alarms} · 预警区域：{areas}</translation>
    </message>
    <message>
        <source>Saved {time}</source>
        <translation>保存于 {time}</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>no recent data (faded)</source>
        <translation>近期无数据（淡显）</translation>
    </message>
    <message>
        <source>Alarm priority</source>
        <translation>报警优先级</translation>
    </message>
</context>
<context>
    <name>MapLayerPanel</name>
    <message>
        <source>Only entities in alarm</source>
        <translation>仅显示报警中的实体</translation>
    </message>
    <message>
        <source>District outlines</source>
        <translation>行政区边界</translation>
    </message>
    <message>
        <source>Warning areas (CAP)</source>
        <translation>预警区域（CAP）</translation>
    </message>
    <message>
        <source>Geofences</source>
        <translation>地理围栏</translation>
    </message>
    <message>
        <source>Vehicle tracks</source>
        <translation>车辆轨迹</translation>
    </message>
    <message>
        <source>Heat of a measurement</source>
        <translation>测量值热力图</translation>
    </message>
    <message>
        <source>Entities by domain</source>
        <translation>按领域显示实体</translation>
    </message>
    <message>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <source>Tracks of the last</source>
        <translation>轨迹时长</translation>
    </message>
    <message>
        <source>Heat of</source>
        <translation>热力图指标</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>图例</translation>
    </message>
    <message>
        <source>Colour and number: the worst alarm&apos;s priority (1 most urgent); faded and dashed: no recent data; a pulsing ring: a priority-1 alarm not yet acknowledged.</source>
        <translation>颜色和数字：最严重报警的优先级（1 最紧急）；淡显虚线：近期无数据；闪动圆环：尚未确认的 1 级报警。</translation>
    </message>
    <message>
        <source>other</source>
        <translation>其他</translation>
    </message>
</context>
<context>
    <name>MapLayers</name>
    <message>
        <source>No vehicle tracks are kept here.</source>
        <translation>此处不保存车辆轨迹。</translation>
    </message>
    <message>
        <source>{count} vehicle tracks</source>
        <translation>{count} 条车辆轨迹</translation>
    </message>
    <message>
        <source>Nothing has moved in that time.</source>
        <translation>这段时间内没有移动的车辆。</translation>
    </message>
</context>
<context>
    <name>MapPage</name>
    <message>
        <source>no recent data</source>
        <translation>无近期数据</translation>
    </message>
    <message>
        <source>alarm: {severity} (priority {priority})</source>
        <translation>告警：{severity}（优先级 {priority}）</translation>
    </message>
    <message>
        <source>low</source>
        <translation>低</translation>
    </message>
    <message>
        <source>medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>high</source>
        <translation>高</translation>
    </message>
    <message>
        <source>critical</source>
        <translation>紧急</translation>
    </message>
    <message>
        <source>{count} entities here</source>
        <translation>此处 {count} 个对象</translation>
    </message>
    <message>
        <source>no markers in view</source>
        <translation>视图内没有标记</translation>
    </message>
</context>
<context>
    <name>MapShapes</name>
    <message>
        <source>Stations</source>
        <translation>监测站</translation>
    </message>
    <message>
        <source>Sites</source>
        <translation>场所</translation>
    </message>
    <message>
        <source>Road points</source>
        <translation>道路点位</translation>
    </message>
    <message>
        <source>Vehicles</source>
        <translation>车辆</translation>
    </message>
    <message>
        <source>Events</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
</context>
<context>
    <name>Permission</name>
    <message>
        <source>acknowledge</source>
        <translation>确认告警</translation>
    </message>
    <message>
        <source>shelve</source>
        <translation>搁置告警</translation>
    </message>
    <message>
        <source>comment</source>
        <translation>添加备注</translation>
    </message>
    <message>
        <source>work on incidents</source>
        <translation>处理事件</translation>
    </message>
    <message>
        <source>out of service</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>close incident</source>
        <translation>关闭事件</translation>
    </message>
    <message>
        <source>leave kiosk</source>
        <translation>退出大屏模式</translation>
    </message>
    <message>
        <source>manage users</source>
        <translation>管理用户</translation>
    </message>
</context>
<context>
    <name>PrefetchDialog</name>
    <message>
        <source>Starting… {elapsed}</source>
        <translation>正在开始… {elapsed}</translation>
    </message>
    <message>
        <source>{stored}/{planned} tiles, {failed} failed, {size} MB, {elapsed}</source>
        <translation>{stored}/{planned} 个瓦片，{failed} 个失败，{size} MB，{elapsed}</translation>
    </message>
    <message>
        <source>Prefetch map tiles</source>
        <translation>预取地图瓦片</translation>
    </message>
    <message>
        <source>Use current &amp;view</source>
        <translation>使用当前视图(&amp;V)</translation>
    </message>
    <message>
        <source>There is no map to ask.</source>
        <translation>没有可查询的地图。</translation>
    </message>
    <message>
        <source>&amp;Draw on the map</source>
        <translation>在地图上画出(&amp;D)</translation>
    </message>
    <message>
        <source>Press, drag and release on the map to draw the area; Esc gives up.</source>
        <translation>在地图上按下、拖动、松开以画出区域；按 Esc 取消。</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>开始(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Retry failed</source>
        <translation>重试失败项(&amp;R)</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>&amp;West</source>
        <translation>西(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;East</source>
        <translation>东(&amp;E)</translation>
    </message>
    <message>
        <source>S&amp;outh</source>
        <translation>南(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;North</source>
        <translation>北(&amp;N)</translation>
    </message>
    <message>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <source>&amp;Base map:</source>
        <translation>底图(&amp;B)：</translation>
    </message>
    <message>
        <source>Set n&amp;ame:</source>
        <translation>集合名称(&amp;A)：</translation>
    </message>
    <message>
        <source>Area (degrees):</source>
        <translation>区域（度）：</translation>
    </message>
    <message>
        <source>&amp;Zoom levels:</source>
        <translation>缩放级别(&amp;Z)：</translation>
    </message>
    <message>
        <source>Estimate:</source>
        <translation>估计：</translation>
    </message>
    <message>
        <source>The map shows no area yet.</source>
        <translation>地图尚未显示任何区域。</translation>
    </message>
    <message>
        <source>No base map with a tile server is configured: add one with an http(s) URL under [[map.basemaps]] in the config.</source>
        <translation>未配置带瓦片服务器的底图：请在配置的 [[map.basemaps]] 下添加一个 http(s) 地址。</translation>
    </message>
    <message>
        <source>Choose the area: draw a rectangle on the map, use the current view or type its corners.</source>
        <translation>选择区域：在地图上画出矩形、使用当前视图或输入四角坐标。</translation>
    </message>
    <message>
        <source>West must be less than east.</source>
        <translation>西边界必须小于东边界。</translation>
    </message>
    <message>
        <source>South must be less than north.</source>
        <translation>南边界必须小于北边界。</translation>
    </message>
    <message>
        <source>The first zoom level must not be above the last.</source>
        <translation>起始缩放级别不能高于结束级别。</translation>
    </message>
    <message>
        <source>More than {limit} tiles: choose a smaller area or fewer zoom levels (cityops tiles prefetch fetches bigger sets).</source>
        <translation>超过 {limit} 个瓦片：请选择更小的区域或更少的缩放级别（更大的集合请用 cityops tiles prefetch）。</translation>
    </message>
    <message>
        <source>{tiles} tiles, about {size} MB</source>
        <translation>{tiles} 个瓦片，约 {size} MB</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>Fetching again the {missing} tiles {name} still misses.</source>
        <translation>正在重新获取 {name} 仍缺少的 {missing} 个瓦片。</translation>
    </message>
    <message>
        <source>The set {name} exists already ({stored} of {planned} tiles stored): fetching what it still misses.</source>
        <translation>集合 {name} 已存在（已存 {stored}/{planned} 个瓦片）：正在获取仍缺少的部分。</translation>
    </message>
    <message>
        <source>The set {name} exists already for another area or zoom levels ({basemap}, {box}, zoom {low}-{high}): fetching what it still misses. Give this area another name to fetch it instead.</source>
        <translation>集合 {name} 已存在，但区域或缩放级别不同（{basemap}，{box}，缩放 {low}-{high}）：正在获取它仍缺少的部分。若要获取此区域，请换一个名称。</translation>
    </message>
    <message>
        <source>Cancelling (tiles being fetched finish first): {line}</source>
        <translation>正在取消（先完成正在获取的瓦片）：{line}</translation>
    </message>
    <message>
        <source>Paused: {line}</source>
        <translation>已暂停：{line}</translation>
    </message>
    <message>
        <source>Cancelled: {stored} of {planned} tiles of {name} stored. Start it again to go on from there.</source>
        <translation>已取消：{name} 已存 {stored}/{planned} 个瓦片。再次开始即可从此处继续。</translation>
    </message>
    <message>
        <source>{failed} tiles could not be fetched (for example: {error}); {stored} of {planned} tiles of {name} stored. Retry failed fetches them again.</source>
        <translation>{failed} 个瓦片无法获取（例如：{error}）；{name} 已存 {stored}/{planned} 个瓦片。点“重试失败项”重新获取。</translation>
    </message>
    <message>
        <source>Done: all {planned} tiles of {name} stored, {size} MB fetched in {elapsed}.</source>
        <translation>完成：{name} 的全部 {planned} 个瓦片已存，用时 {elapsed} 获取了 {size} MB。</translation>
    </message>
    <message>
        <source>{stored} of {planned} tiles of {name} stored.</source>
        <translation>{name} 已存 {stored}/{planned} 个瓦片。</translation>
    </message>
    <message>
        <source>Nothing was fetched: {error}</source>
        <translation>未获取任何瓦片：{error}</translation>
    </message>
    <message>
        <source>The set {name} belongs to the base map {basemap}, which has no tile server in the config: nothing was fetched. Give this area another name.</source>
        <translation>集合 {name} 属于底图 {basemap}，而配置中该底图没有瓦片服务器：未获取任何瓦片。请给此区域换一个名称。</translation>
    </message>
    <message>
        <source>The set {name} exists already with {tiles} tiles, more than the {limit} this dialog fetches: use cityops tiles prefetch, or give this area another name.</source>
        <translation>集合 {name} 已存在，含 {tiles} 个瓦片，超过此对话框可获取的 {limit} 个：请使用 cityops tiles prefetch，或给此区域换一个名称。</translation>
    </message>
    <message>
        <source>The prefetch stopped: {error}</source>
        <translation>预取已停止：{error}</translation>
    </message>
</context>
<context>
    <name>ReplayBar</name>
    <message>
        <source>Last hour</source>
        <translation>最近一小时</translation>
    </message>
    <message>
        <source>This shift</source>
        <translation>本班次</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>最近 24 小时</translation>
    </message>
    <message>
        <source>Custom…</source>
        <translation>自定义…</translation>
    </message>
    <message>
        <source>The stretch of time to review</source>
        <translation>要回放的时间段</translation>
    </message>
    <message>
        <source>◀ Alarm</source>
        <translation>◀ 告警</translation>
    </message>
    <message>
        <source>Previous alarm (Ctrl+[)</source>
        <translation>上一条告警 (Ctrl+[)</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Play or pause the replay (F8)</source>
        <translation>播放或暂停回放 (F8)</translation>
    </message>
    <message>
        <source>Alarm ▶</source>
        <translation>告警 ▶</translation>
    </message>
    <message>
        <source>Next alarm (Ctrl+])</source>
        <translation>下一条告警 (Ctrl+])</translation>
    </message>
    <message>
        <source>Replay speed</source>
        <translation>回放速度</translation>
    </message>
    <message>
        <source>The replayed moment: drag and release</source>
        <translation>回放时刻：拖动后松开</translation>
    </message>
    <message>
        <source>Return to live</source>
        <translation>返回实时</translation>
    </message>
    <message>
        <source>Back to the live city (Ctrl+R)</source>
        <translation>返回实时城市画面 (Ctrl+R)</translation>
    </message>
    <message>
        <source>REPLAY {time}  ·  {day}  ·  NOT LIVE</source>
        <translation>回放 {time}  ·  {day}  ·  非实时</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
</context>
<context>
    <name>Review</name>
    <message>
        <source>&amp;Review</source>
        <translation>回放(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Review the past</source>
        <translation>历史回放(&amp;R)</translation>
    </message>
    <message>
        <source>Replay the city as it was; Ctrl+R again returns to live</source>
        <translation>按当时的状态回放城市；再按 Ctrl+R 返回实时</translation>
    </message>
    <message>
        <source>&amp;Play / pause</source>
        <translation>播放/暂停(&amp;P)</translation>
    </message>
    <message>
        <source>P&amp;revious alarm</source>
        <translation>上一条告警(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Next alarm</source>
        <translation>下一条告警(&amp;N)</translation>
    </message>
    <message>
        <source>Review the last &amp;hour</source>
        <translation>回放最近一小时(&amp;H)</translation>
    </message>
    <message>
        <source>Review this &amp;shift</source>
        <translation>回放本班次(&amp;S)</translation>
    </message>
    <message>
        <source>Review the last &amp;24 hours</source>
        <translation>回放最近 24 小时(&amp;2)</translation>
    </message>
    <message>
        <source>Review a &amp;custom window…</source>
        <translation>回放自定义时间窗(&amp;C)…</translation>
    </message>
    <message>
        <source>Cannot replay: the offline cache cannot be read ({error})</source>
        <translation>无法回放：无法读取离线缓存（{error}）</translation>
    </message>
    <message>
        <source>Review a custom window</source>
        <translation>回放自定义时间窗</translation>
    </message>
    <message>
        <source>From</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Until</source>
        <translation>结束时间</translation>
    </message>
    <message>
        <source>The review window must end after it starts</source>
        <translation>回放时间窗的结束时间必须晚于开始时间</translation>
    </message>
    <message>
        <source>No earlier alarm in this window</source>
        <translation>此时间窗内没有更早的告警</translation>
    </message>
    <message>
        <source>No later alarm in this window</source>
        <translation>此时间窗内没有更晚的告警</translation>
    </message>
    <message>
        <source>Replay: the offline cache could not be read (see the log)</source>
        <translation>回放：无法读取离线缓存（详见日志）</translation>
    </message>
    <message>
        <source>Nothing was recorded by this moment: move the slider later. Live recording continues underneath ({count} live alarm changes since the review began).</source>
        <translation>此时刻之前尚无记录：请把滑块移到更晚的时刻。实时记录仍在后台进行（回放开始以来实时告警变化 {count} 次）。</translation>
    </message>
    <message>
        <source>The city as the offline cache recorded it; live recording continues underneath ({count} live alarm changes since the review began). Actions are off.</source>
        <translation>显示离线缓存记录的城市状态；实时记录仍在后台继续（回放开始以来有 {count} 条实时告警变化）。操作已禁用。</translation>
    </message>
</context>
<context>
    <name>Role</name>
    <message>
        <source>viewer</source>
        <translation>查看员</translation>
    </message>
    <message>
        <source>operator</source>
        <translation>值班员</translation>
    </message>
    <message>
        <source>supervisor</source>
        <translation>班长</translation>
    </message>
    <message>
        <source>admin</source>
        <translation>管理员</translation>
    </message>
</context>
<context>
    <name>SearchPopup</name>
    <message>
        <source>Station</source>
        <translation>站点</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
</context>
<context>
    <name>Severity</name>
    <message>
        <source>Low</source>
        <translation>低</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <source>Critical</source>
        <translation>紧急</translation>
    </message>
</context>
<context>
    <name>ShelveDialog</name>
    <message>
        <source>15 minutes</source>
        <translation>15 分钟</translation>
    </message>
    <message>
        <source>1 hour</source>
        <translation>1 小时</translation>
    </message>
    <message>
        <source>4 hours</source>
        <translation>4 小时</translation>
    </message>
    <message>
        <source>8 hours</source>
        <translation>8 小时</translation>
    </message>
    <message>
        <source>Until it clears</source>
        <translation>直至恢复</translation>
    </message>
    <message>
        <source>Shelve {count} alarm(s)</source>
        <translation>搁置 {count} 条告警</translation>
    </message>
    <message>
        <source>Why, e.g. sensor under maintenance</source>
        <translation>原因，例如传感器检修中</translation>
    </message>
    <message>
        <source>For:</source>
        <translation>时长：</translation>
    </message>
    <message>
        <source>Reason:</source>
        <translation>原因：</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Switch user — CityOps</source>
        <translation>切换用户 — CityOps</translation>
    </message>
    <message>
        <source>Sign in — CityOps</source>
        <translation>登录 — CityOps</translation>
    </message>
    <message>
        <source>Signed in now: {user} ({role}). Sign in as the next person on this workstation.</source>
        <translation>当前登录：{user}（{role}）。请以本工作站的下一位人员身份登录。</translation>
    </message>
    <message>
        <source>Sign in to work on this workstation.</source>
        <translation>请登录以使用本工作站。</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Workstation</source>
        <translation>工作站</translation>
    </message>
    <message>
        <source>&amp;User name</source>
        <translation>用户名(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Password</source>
        <translation>密码(&amp;P)</translation>
    </message>
    <message>
        <source>Wait {seconds} s</source>
        <translation>请等待 {seconds} 秒</translation>
    </message>
</context>
<context>
    <name>Timeline</name>
    <message>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Shelved</source>
        <translation>已搁置</translation>
    </message>
    <message>
        <source>Unshelved</source>
        <translation>已取消搁置</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>已指派</translation>
    </message>
    <message>
        <source>Taken out of service</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>Returned to service</source>
        <translation>已恢复使用</translation>
    </message>
    <message>
        <source>Incident opened</source>
        <translation>事件已开启</translation>
    </message>
    <message>
        <source>Title changed</source>
        <translation>标题已更改</translation>
    </message>
    <message>
        <source>Priority changed</source>
        <translation>优先级已更改</translation>
    </message>
    <message>
        <source>Status changed</source>
        <translation>状态已更改</translation>
    </message>
    <message>
        <source>Owner changed</source>
        <translation>负责人已更改</translation>
    </message>
    <message>
        <source>Alarm linked</source>
        <translation>已关联报警</translation>
    </message>
    <message>
        <source>Entity linked</source>
        <translation>已关联对象</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>{entity} · {metric} {condition}</source>
        <translation>{entity} · {metric} {condition}</translation>
    </message>
    <message>
        <source>{alarm}: {previous} → {state}</source>
        <translation>{alarm}：{previous} → {state}</translation>
    </message>
    <message>
        <source>{alarm}: {state}</source>
        <translation>{alarm}：{state}</translation>
    </message>
    <message>
        <source>{action}: {alarm}</source>
        <translation>{action}：{alarm}</translation>
    </message>
    <message>
        <source>{user} ({workstation})</source>
        <translation>{user}（{workstation}）</translation>
    </message>
</context>
<context>
    <name>TopTable</name>
    <message>
        <source> (stale)</source>
        <translation>（陈旧）</translation>
    </message>
    <message>
        <source>{value} · {priority}</source>
        <translation>{value} · {priority}</translation>
    </message>
    <message>
        <source>No data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>{rank}. {name}</source>
        <translation>{rank}. {name}</translation>
    </message>
    <message>
        <source>Priority: {priority}</source>
        <translation>优先级：{priority}</translation>
    </message>
    <message>
        <source>Stale: the value is not live</source>
        <translation>陈旧：该值不是实时数据</translation>
    </message>
</context>
<context>
    <name>TrendPlot</name>
    <message>
        <source>All (normalised)</source>
        <translation>全部（归一化）</translation>
    </message>
    <message>
        <source>normalised per metric (0 = min, 1 = max)</source>
        <translation>按指标归一化（0 最小，1 最大）</translation>
    </message>
    <message>
        <source>time (local)</source>
        <translation>时间（本地）</translation>
    </message>
    <message>
        <source>Metric to plot in its own unit, or all of them normalised</source>
        <translation>按自身单位绘制的指标，或全部指标归一化</translation>
    </message>
    <message>
        <source>Follow live</source>
        <translation>跟随实时</translation>
    </message>
    <message>
        <source>Keep the time axis on the last window; panning turns this off</source>
        <translation>时间轴保持在最近窗口；平移会关闭此项</translation>
    </message>
    <message>
        <source>STALE</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source> · last update {time}</source>
        <translation> · 最后更新 {time}</translation>
    </message>
    <message>
        <source>warn</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>alarm</source>
        <translation>告警</translation>
    </message>
</context>
<context>
    <name>WindowMenus</name>
    <message>
        <source>Acknowledge the selected alarms (in the alarm list)</source>
        <translation>确认所选告警（在告警列表中）</translation>
    </message>
    <message>
        <source>Locate the selected alarm&apos;s source on the map (in the alarm list)</source>
        <translation>在地图上定位所选告警的来源（在告警列表中）</translation>
    </message>
    <message>
        <source>Move between panels</source>
        <translation>在面板之间切换</translation>
    </message>
    <message>
        <source>Next / previous marker in view, most urgent first (on the map)</source>
        <translation>视图内的下一个/上一个标记，最紧急的在先（地图上）</translation>
    </message>
    <message>
        <source>Select the marker, or open the cluster (on the map)</source>
        <translation>选中标记，或展开聚合（地图上）</translation>
    </message>
    <message>
        <source>Let go of the marker (on the map)</source>
        <translation>放开标记（地图上）</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Export alarms as CSV…</source>
        <translation>导出告警为 CSV(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Handover report…</source>
        <translation>交接班报告(&amp;H)…</translation>
    </message>
    <message>
        <source>S&amp;witch user…</source>
        <translation>切换用户(&amp;W)…</translation>
    </message>
    <message>
        <source>Single-user mode ([auth] in the config): no accounts</source>
        <translation>单用户模式（配置中的 [auth]）：没有账户</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Go</source>
        <translation>转到(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Find station or alarm…</source>
        <translation>查找站点或告警(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Command palette…</source>
        <translation>命令面板(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Silence alarms</source>
        <translation>静音告警(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Map</source>
        <translation>地图(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Station name or id, alarm text…</source>
        <translation>站点名称或编号、告警文字…</translation>
    </message>
    <message>
        <source>Type an action, a station or an alarm…</source>
        <translation>输入操作、站点或告警…</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
</context>
<context>
    <name>WorkstationDocks</name>
    <message>
        <source>layouts are not saved on this workstation</source>
        <translation>本工作站不保存布局</translation>
    </message>
    <message>
        <source>&amp;Save layout as…</source>
        <translation>布局另存为(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Restore layout</source>
        <translation>恢复布局(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;set layout</source>
        <translation>重置布局(&amp;E)</translation>
    </message>
    <message>
        <source>Save layout</source>
        <translation>保存布局</translation>
    </message>
    <message>
        <source>Layout name:</source>
        <translation>布局名称：</translation>
    </message>
    <message>
        <source>Layout not saved</source>
        <translation>布局未保存</translation>
    </message>
</context>
</TS>
