<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AlarmDetailPane</name>
    <message>
        <source>The connection is down: this may be out of date.</source>
        <translation>连接已断开：以下信息可能已过时。</translation>
    </message>
    <message>
        <source>No.:</source>
        <translation>编号：</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <source>Type:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>State:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>Coordinates:</source>
        <translation>坐标：</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>Caller:</source>
        <translation>报警人：</translation>
    </message>
    <message>
        <source>Caller address:</source>
        <translation>报警人地址：</translation>
    </message>
    <message>
        <source>Sensitive note:</source>
        <translation>敏感信息：</translation>
    </message>
    <message>
        <source>First reported:</source>
        <translation>首次报警：</translation>
    </message>
    <message>
        <source>Last change:</source>
        <translation>最近变更：</translation>
    </message>
    <message>
        <source>Last note:</source>
        <translation>最新备注：</translation>
    </message>
    <message>
        <source>Shared with:</source>
        <translation>共享给：</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>警情描述：</translation>
    </message>
    <message>
        <source>Dispatched units</source>
        <translation>已派单位</translation>
    </message>
    <message>
        <source>Reveal…</source>
        <translation>查看…</translation>
    </message>
    <message>
        <source>Show the caller&apos;s details in full for a minute (asks why; recorded)</source>
        <translation>完整显示报警人信息一分钟（需说明理由，留痕）</translation>
    </message>
    <message>
        <source>Select an alarm in the queue.</source>
        <translation>请在警情队列中选择一条警情。</translation>
    </message>
    <message>
        <source> (into No. {alarm_id})</source>
        <translation>（并入 {alarm_id} 号）</translation>
    </message>
    <message>
        <source>Shown in full for {seconds} s; this view is recorded.</source>
        <translation>完整显示 {seconds} 秒；本次查看已记录。</translation>
    </message>
    <message>
        <source>Not revealed: {summary} ({message})</source>
        <translation>未能查看：{summary}（{message}）</translation>
    </message>
</context>
<context>
    <name>AlarmIncidentActions</name>
    <message>
        <source>Raise incident…</source>
        <translation>立案…</translation>
    </message>
    <message>
        <source>Attach to incident…</source>
        <translation>并案…</translation>
    </message>
    <message>
        <source>Open incident</source>
        <translation>打开事件</translation>
    </message>
    <message>
        <source>Incident #{incident_id}</source>
        <translation>事件 #{incident_id}</translation>
    </message>
</context>
<context>
    <name>AlarmTableModel</name>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>时长</translation>
    </message>
</context>
<context>
    <name>AssessmentDialog</name>
    <message>
        <source>Assessment</source>
        <translation>量化考核</translation>
    </message>
    <message>
        <source>Month</source>
        <translation>月度</translation>
    </message>
    <message>
        <source>Quarter</source>
        <translation>季度</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>考核期</translation>
    </message>
    <message>
        <source>By jurisdiction</source>
        <translation>按辖区</translation>
    </message>
    <message>
        <source>By agency</source>
        <translation>按单位</translation>
    </message>
    <message>
        <source>Rows</source>
        <translation>排名对象</translation>
    </message>
    <message>
        <source>your own area</source>
        <translation>本人辖区</translation>
    </message>
    <message>
        <source>Jurisdiction code</source>
        <translation>辖区代码</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>Export to Excel…</source>
        <translation>导出 Excel…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>{count} rows</source>
        <translation>共 {count} 行</translation>
    </message>
    <message>
        <source>Export to Excel</source>
        <translation>导出 Excel</translation>
    </message>
    <message>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <source>Writing {path}…</source>
        <translation>正在写入 {path}…</translation>
    </message>
    <message>
        <source>Cannot write {path}: {reason}</source>
        <translation>无法写入 {path}:{reason}</translation>
    </message>
    <message>
        <source>Written: {path}</source>
        <translation>已导出:{path}</translation>
    </message>
</context>
<context>
    <name>AttachAlarmDialog</name>
    <message>
        <source>Attach alarm {alarm_id} to an incident</source>
        <translation>将警情 {alarm_id} 并入事件</translation>
    </message>
    <message>
        <source>Incident:</source>
        <translation>事件：</translation>
    </message>
</context>
<context>
    <name>Attention</name>
    <message>
        <source>DutyDesk</source>
        <translation>值班台</translation>
    </message>
    <message>
        <source>{level} alarm No. {alarm_id}</source>
        <translation>{level}警情 {alarm_id} 号</translation>
    </message>
</context>
<context>
    <name>CameraDirectory</name>
    <message>
        <source>Video is unavailable on this computer: {reason}</source>
        <translation>本机无法播放视频：{reason}</translation>
    </message>
    <message>
        <source>Cameras could not be loaded: {reason}</source>
        <translation>摄像机列表加载失败：{reason}</translation>
    </message>
</context>
<context>
    <name>CameraVideo</name>
    <message>
        <source>No video source is available for this camera.</source>
        <translation>该摄像机没有可用的视频源。</translation>
    </message>
    <message>
        <source>Connecting… {seconds} s</source>
        <translation>正在连接… {seconds} 秒</translation>
    </message>
    <message>
        <source>Playing</source>
        <translation>正在播放</translation>
    </message>
    <message>
        <source>Waiting for the stream… {seconds} s</source>
        <translation>正在等待视频流… {seconds} 秒</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>The stream ended.</source>
        <translation>视频流已结束。</translation>
    </message>
    <message>
        <source>Error: {reason}</source>
        <translation>错误：{reason}</translation>
    </message>
</context>
<context>
    <name>CameraVideoWindow</name>
    <message>
        <source>Camera – {name}</source>
        <translation>摄像机 – {name}</translation>
    </message>
    <message>
        <source>Reconnect</source>
        <translation>重新连接</translation>
    </message>
    <message>
        <source>the recording {path} does not exist</source>
        <translation>录像文件 {path} 不存在</translation>
    </message>
    <message>
        <source>the stream cannot be played</source>
        <translation>无法播放该视频流</translation>
    </message>
    <message>
        <source>Trying again in {seconds} s…</source>
        <translation>{seconds} 秒后自动重连…</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
</context>
<context>
    <name>Catalogue</name>
    <message>
        <source>Village / community</source>
        <translation>村（社区）</translation>
    </message>
    <message>
        <source>Town / street</source>
        <translation>镇（街道）</translation>
    </message>
    <message>
        <source>District</source>
        <translation>区县</translation>
    </message>
    <message>
        <source>Functional department</source>
        <translation>职能部门</translation>
    </message>
    <message>
        <source>Handled by: {level}</source>
        <translation>处置层级：{level}</translation>
    </message>
    <message>
        <source>Default level: {level}</source>
        <translation>默认级别：{level}</translation>
    </message>
    <message>
        <source>Reported straight to the district (直报)</source>
        <translation>直报区级</translation>
    </message>
    <message>
        <source>{deadline} within {minutes} min</source>
        <translation>{deadline} {minutes} 分钟</translation>
    </message>
    <message>
        <source>Deadlines: {deadlines}</source>
        <translation>时限：{deadlines}</translation>
    </message>
</context>
<context>
    <name>CataloguePicker</name>
    <message>
        <source>Search by Chinese or English name or code</source>
        <translation>按中文名、英文名或代码搜索</translation>
    </message>
    <message>
        <source>The event catalogue has not arrived yet.</source>
        <translation>事件分类尚未取得。</translation>
    </message>
    <message>
        <source>Choose an event type.</source>
        <translation>请选择事件类型。</translation>
    </message>
</context>
<context>
    <name>ChangeIncidentDialog</name>
    <message>
        <source>Change incident {incident_id}</source>
        <translation>调整事件 {incident_id}</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <source>Commander:</source>
        <translation>指挥员：</translation>
    </message>
    <message>
        <source>Type:</source>
        <translation>事件类型（定性）：</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
</context>
<context>
    <name>ChatModel</name>
    <message>
        <source>Attachment: {name} ({size})</source>
        <translation>附件：{name}（{size}）</translation>
    </message>
    <message>
        <source>Read by {names}</source>
        <translation>已读：{names}</translation>
    </message>
</context>
<context>
    <name>ChatPanel</name>
    <message>
        <source>Write a message to every desk on this incident</source>
        <translation>给本事件的各席位发消息</translation>
    </message>
    <message>
        <source>Attach photo…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Earlier messages are not available now.</source>
        <translation>暂时无法取得之前的消息。</translation>
    </message>
    <message>
        <source>Write something or attach a photo first.</source>
        <translation>请先输入内容或添加照片。</translation>
    </message>
    <message>
        <source>A message holds at most {count} characters.</source>
        <translation>一条消息最多 {count} 个字。</translation>
    </message>
    <message>
        <source>Not sent: {reason}</source>
        <translation>未发送：{reason}</translation>
    </message>
    <message>
        <source>A message takes at most {count} attachments.</source>
        <translation>一条消息最多带 {count} 个附件。</translation>
    </message>
    <message>
        <source>Only photos (JPEG, PNG, WebP) and PDF files can be attached.</source>
        <translation>只能添加照片（JPEG、PNG、WebP）或 PDF 文件。</translation>
    </message>
    <message>
        <source>Cannot read {name}: {reason}</source>
        <translation>无法读取 {name}：{reason}</translation>
    </message>
    <message>
        <source>{name} was not attached: {reason}</source>
        <translation>{name} 未能添加：{reason}</translation>
    </message>
    <message>
        <source>To send with the message: {names}</source>
        <translation>随消息发送：{names}</translation>
    </message>
    <message>
        <source>Fetching {name}…</source>
        <translation>正在获取 {name}…</translation>
    </message>
    <message>
        <source>{name} could not be fetched: {reason}</source>
        <translation>{name} 获取失败：{reason}</translation>
    </message>
</context>
<context>
    <name>ChecklistPane</name>
    <message>
        <source>No emergency plan applies to this incident&apos;s type and level.</source>
        <translation>没有适用于该事件类型和级别的应急预案。</translation>
    </message>
    <message>
        <source>The checklist could not be read: {reason}</source>
        <translation>无法读取预案清单：{reason}</translation>
    </message>
    <message>
        <source>{name} ({code}) · response level {level}</source>
        <translation>{name}（{code}）· 响应级别 {level}</translation>
    </message>
    <message>
        <source>Roles: {roles}</source>
        <translation>角色：{roles}</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步骤</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>负责</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>时限</translation>
    </message>
    <message>
        <source>Ticked by</source>
        <translation>勾选人/时间</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Open plan document</source>
        <translation>打开预案文档</translation>
    </message>
    <message>
        <source>Command centre</source>
        <translation>指挥中心</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>已超时</translation>
    </message>
    <message>
        <source>Note for the tick (optional):</source>
        <translation>勾选备注（可不填）：</translation>
    </message>
    <message>
        <source>Why is this step undone? (optional)</source>
        <translation>取消勾选的原因（可不填）：</translation>
    </message>
    <message>
        <source>Plan step</source>
        <translation>预案步骤</translation>
    </message>
    <message>
        <source>Not ticked: {reason}</source>
        <translation>未能勾选：{reason}</translation>
    </message>
    <message>
        <source>Document {n}</source>
        <translation>文档 {n}</translation>
    </message>
    <message>
        <source>Fetching the plan&apos;s document…</source>
        <translation>正在获取预案文档…</translation>
    </message>
    <message>
        <source>The plan&apos;s document could not be fetched: {reason}</source>
        <translation>无法获取预案文档：{reason}</translation>
    </message>
</context>
<context>
    <name>ConsoleSession</name>
    <message>
        <source>The server&apos;s certificate is not trusted ({reason}). Check the address and the CA certificate file.</source>
        <translation>服务器证书不受信任（{reason}）。请检查服务器地址和 CA 证书文件。</translation>
    </message>
    <message>
        <source>Enter the verification code from your authenticator app ({reason}).</source>
        <translation>请输入身份验证器应用中的验证码（{reason}）。</translation>
    </message>
    <message>
        <source>Login refused: {reason}</source>
        <translation>登录被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Cannot reach the server: {reason}</source>
        <translation>无法连接服务器：{reason}</translation>
    </message>
    <message>
        <source>Your session was ended: {reason}. Log in again.</source>
        <translation>会话已结束：{reason}。请重新登录。</translation>
    </message>
</context>
<context>
    <name>DangerBoardPanel</name>
    <message>
        <source>Hidden dangers</source>
        <translation>隐患</translation>
    </message>
    <message>
        <source>Inspections</source>
        <translation>执法检查</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>统计排名</translation>
    </message>
    <message>
        <source>All states</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <source>All grades</source>
        <translation>全部等级</translation>
    </message>
    <message>
        <source>Enterprise</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Overdue only</source>
        <translation>仅看逾期</translation>
    </message>
    <message>
        <source>Report…</source>
        <translation>上报隐患…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Grade</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>部位</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>整改期限</translation>
    </message>
    <message>
        <source>Escalated to</source>
        <translation>督办层级</translation>
    </message>
    <message>
        <source>Add photo…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Inspected at</source>
        <translation>检查时间</translation>
    </message>
    <message>
        <source>Inspectors</source>
        <translation>检查人员</translation>
    </message>
    <message>
        <source>Hidden dangers found</source>
        <translation>发现隐患</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>检查情况</translation>
    </message>
    <message>
        <source>Record an inspection…</source>
        <translation>记录执法检查…</translation>
    </message>
    <message>
        <source>Export to Excel…</source>
        <translation>导出 Excel…</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>排名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>隐患总数</translation>
    </message>
    <message>
        <source>Major</source>
        <translation>重大隐患</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>未销号</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>逾期</translation>
    </message>
    <message>
        <source>Rectified</source>
        <translation>已整改</translation>
    </message>
    <message>
        <source>Rectification rate</source>
        <translation>整改率</translation>
    </message>
    <message>
        <source>On-time rate</source>
        <translation>按期整改率</translation>
    </message>
    <message>
        <source>{n} hidden dangers</source>
        <translation>共 {n} 条隐患</translation>
    </message>
    <message>
        <source>Measures: {m}</source>
        <translation>整改措施：{m}</translation>
    </message>
    <message>
        <source>Deadline: {d}</source>
        <translation>整改期限：{d}</translation>
    </message>
    <message>
        <source>Responsible: {n} {p}</source>
        <translation>责任人：{n} {p}</translation>
    </message>
    <message>
        <source>Photos: {n}</source>
        <translation>照片：{n} 张</translation>
    </message>
    <message>
        <source>Hidden danger reported</source>
        <translation>隐患已上报</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Pictures (*.jpg *.jpeg *.png *.webp)</source>
        <translation>图片 (*.jpg *.jpeg *.png *.webp)</translation>
    </message>
    <message>
        <source>Not a picture: {name}</source>
        <translation>不是图片：{name}</translation>
    </message>
    <message>
        <source>Photo stored</source>
        <translation>照片已保存</translation>
    </message>
    <message>
        <source>Inspection recorded</source>
        <translation>执法检查已记录</translation>
    </message>
    <message>
        <source>Export to Excel</source>
        <translation>导出 Excel</translation>
    </message>
    <message>
        <source>Saved {name}</source>
        <translation>已保存 {name}</translation>
    </message>
</context>
<context>
    <name>Dangers</name>
    <message>
        <source>Site management</source>
        <translation>现场管理</translation>
    </message>
    <message>
        <source>Equipment and facilities</source>
        <translation>设备设施</translation>
    </message>
    <message>
        <source>Operations</source>
        <translation>作业行为</translation>
    </message>
    <message>
        <source>Safety management</source>
        <translation>安全管理</translation>
    </message>
    <message>
        <source>Fire safety</source>
        <translation>消防</translation>
    </message>
    <message>
        <source>Electrical</source>
        <translation>电气</translation>
    </message>
    <message>
        <source>Hazardous chemicals</source>
        <translation>危险化学品</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>General</source>
        <translation>一般隐患</translation>
    </message>
    <message>
        <source>Major</source>
        <translation>重大隐患</translation>
    </message>
    <message>
        <source>Reported</source>
        <translation>已上报</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>已交办</translation>
    </message>
    <message>
        <source>Rectifying</source>
        <translation>整改中</translation>
    </message>
    <message>
        <source>Rectified</source>
        <translation>已整改</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已验收</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>已逾期</translation>
    </message>
    <message>
        <source>Supervised</source>
        <translation>挂牌督办</translation>
    </message>
    <message>
        <source>Assign</source>
        <translation>交办</translation>
    </message>
    <message>
        <source>Start rectifying</source>
        <translation>开始整改</translation>
    </message>
    <message>
        <source>Rectification done</source>
        <translation>整改完成</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>验收</translation>
    </message>
    <message>
        <source>Send back</source>
        <translation>退回整改</translation>
    </message>
    <message>
        <source>Supervise</source>
        <translation>挂牌督办</translation>
    </message>
    <message>
        <source>Deadline passed</source>
        <translation>超期</translation>
    </message>
    <message>
        <source>Escalated</source>
        <translation>升级督办</translation>
    </message>
    <message>
        <source>Self-inspection</source>
        <translation>企业自查</translation>
    </message>
    <message>
        <source>Inspection</source>
        <translation>执法检查</translation>
    </message>
    <message>
        <source>Area supervisors</source>
        <translation>本级督促</translation>
    </message>
    <message>
        <source>Level above</source>
        <translation>上级督办</translation>
    </message>
    <message>
        <source>By enterprise</source>
        <translation>按企业</translation>
    </message>
    <message>
        <source>By industry</source>
        <translation>按行业</translation>
    </message>
    <message>
        <source>By jurisdiction</source>
        <translation>按辖区</translation>
    </message>
</context>
<context>
    <name>DeadlinesDialog</name>
    <message>
        <source>Deadlines of task {task_id}</source>
        <translation>任务 {task_id} 的时限</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
</context>
<context>
    <name>DecisionPane</name>
    <message>
        <source>Kind</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Zone</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>People</source>
        <translation>人数</translation>
    </message>
    <message>
        <source>Chemicals: UN numbers or names, comma-separated (empty: the hazard source&apos;s)</source>
        <translation>化学品：UN编号或名称，逗号分隔（留空：取危险源储存的化学品）</translation>
    </message>
    <message>
        <source>Small spill</source>
        <translation>小量泄漏</translation>
    </message>
    <message>
        <source>Large spill</source>
        <translation>大量泄漏</translation>
    </message>
    <message>
        <source>Day/night by the clock</source>
        <translation>按当前时间判断昼夜</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>白天</translation>
    </message>
    <message>
        <source>Night</source>
        <translation>夜间</translation>
    </message>
    <message>
        <source>Fire</source>
        <translation>火灾</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>Show on map</source>
        <translation>在地图上显示</translation>
    </message>
    <message>
        <source>No incident selected</source>
        <translation>未选择事件</translation>
    </message>
    <message>
        <source>Asking…</source>
        <translation>正在查询…</translation>
    </message>
    <message>
        <source>Unexpected answer from the server</source>
        <translation>服务器应答异常</translation>
    </message>
    <message>
        <source>Refused: {message} ({code})</source>
        <translation>被拒绝：{message}（{code}）</translation>
    </message>
    <message>
        <source>Night-time distances</source>
        <translation>按夜间距离</translation>
    </message>
    <message>
        <source>Daytime distances</source>
        <translation>按白天距离</translation>
    </message>
    <message>
        <source>{rings}. {count} inside, {people} people in protection targets.</source>
        <translation>{rings}。区内 {count} 处，防护目标人数 {people} 人。</translation>
    </message>
    <message>
        <source>Hazard source {code}. </source>
        <translation>危险源 {code}。</translation>
    </message>
    <message>
        <source>No chemical known: the rings are those for an unidentified cargo.</source>
        <translation>未识别化学品：按不明货物确定隔离和防护距离。</translation>
    </message>
    <message>
        <source>Not in the chemical table: {names}</source>
        <translation>化学品表中没有：{names}</translation>
    </message>
    <message>
        <source>class {klass}</source>
        <translation>第{klass}类</translation>
    </message>
    <message>
        <source>Hazards: {text}</source>
        <translation>危害：{text}</translation>
    </message>
    <message>
        <source>First aid: {text}</source>
        <translation>急救：{text}</translation>
    </message>
    <message>
        <source>Firefighting: {text}</source>
        <translation>灭火：{text}</translation>
    </message>
    <message>
        <source>Spill: {text}</source>
        <translation>泄漏处置：{text}</translation>
    </message>
    <message>
        <source>Isolate {isolation}; protect downwind {day} by day, {night} by night</source>
        <translation>初始隔离 {isolation}；下风向防护 白天 {day}，夜间 {night}</translation>
    </message>
    <message>
        <source>Source: {text}</source>
        <translation>来源：{text}</translation>
    </message>
    <message>
        <source>School</source>
        <translation>学校</translation>
    </message>
    <message>
        <source>Kindergarten</source>
        <translation>幼儿园</translation>
    </message>
    <message>
        <source>Hospital</source>
        <translation>医院</translation>
    </message>
    <message>
        <source>Nursing home</source>
        <translation>养老机构</translation>
    </message>
    <message>
        <source>Residents&apos; area</source>
        <translation>居民区</translation>
    </message>
    <message>
        <source>Market</source>
        <translation>商场/市场</translation>
    </message>
    <message>
        <source>Government office</source>
        <translation>机关单位</translation>
    </message>
    <message>
        <source>Drinking water source</source>
        <translation>饮用水源地</translation>
    </message>
    <message>
        <source>Protection target</source>
        <translation>防护目标</translation>
    </message>
    <message>
        <source>Enterprise</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Major hazard source</source>
        <translation>重大危险源</translation>
    </message>
    <message>
        <source>Shelter</source>
        <translation>避难场所</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <source>Sensor</source>
        <translation>传感器</translation>
    </message>
</context>
<context>
    <name>DecisionRings</name>
    <message>
        <source>Isolation zone</source>
        <translation>隔离区</translation>
    </message>
    <message>
        <source>Protective zone</source>
        <translation>防护区</translation>
    </message>
    <message>
        <source>Set radius</source>
        <translation>指定半径</translation>
    </message>
</context>
<context>
    <name>DisconnectedBanner</name>
    <message>
        <source>The server refused the login: {reason}</source>
        <translation>服务器拒绝登录：{reason}</translation>
    </message>
    <message>
        <source>Your session was ended: {reason}. Log in again.</source>
        <translation>会话已结束：{reason}。请重新登录。</translation>
    </message>
    <message>
        <source>No connection to the server. What you see is {age} old and may be out of date. Commands are queued ({count}) and sent when the connection is back. Reconnecting…</source>
        <translation>与服务器的连接已断开。当前显示的是 {age}前的数据，可能已过时。新命令已排队（{count} 条），连接恢复后自动发送。正在重连…</translation>
    </message>
</context>
<context>
    <name>DispatchDialog</name>
    <message>
        <source>Dispatch units to alarm {alarm_id}</source>
        <translation>派警：{alarm_id} 号警情</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
    <message>
        <source>Dispatch</source>
        <translation>派警</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Ordered by the recommendation, best first.</source>
        <translation>已按资源推荐排序，最优在前。</translation>
    </message>
    <message>
        <source>No ranking: {}</source>
        <translation>无推荐：{}</translation>
    </message>
    <message>
        <source> – already dispatched</source>
        <translation> – 已派出</translation>
    </message>
    <message>
        <source>Loading units…</source>
        <translation>正在加载可派单位…</translation>
    </message>
    <message>
        <source>Tick the units to send:</source>
        <translation>勾选要派出的单位：</translation>
    </message>
</context>
<context>
    <name>DrillBanner</name>
    <message>
        <source>DRILL · {title} · {speed} · exercise time {time}</source>
        <translation>演练 · {title} · {speed} · 演练时间 {time}</translation>
    </message>
</context>
<context>
    <name>DrillSession</name>
    <message>
        <source>The exercise has ended; its console is disconnected.</source>
        <translation>演练已结束，演练席位已断开连接。</translation>
    </message>
    <message>
        <source>The exercise console was closed: {reason}</source>
        <translation>演练席位已关闭：{reason}</translation>
    </message>
    <message>
        <source>The exercise console could not open: {reason}</source>
        <translation>演练席位无法打开：{reason}</translation>
    </message>
    <message>
        <source>The exercise session was ended: {reason}</source>
        <translation>演练会话已结束：{reason}</translation>
    </message>
    <message>
        <source>The exercise console was refused: {reason}</source>
        <translation>演练席位被拒绝：{reason}</translation>
    </message>
</context>
<context>
    <name>DrillWindow</name>
    <message>
        <source>Exercise</source>
        <translation>演练</translation>
    </message>
</context>
<context>
    <name>EarlyWarning</name>
    <message>
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <source>Trend</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>Rising together</source>
        <translation>多参数同升</translation>
    </message>
    <message>
        <source>Weather</source>
        <translation>气象</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>未确认</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Cleared</source>
        <translation>已解除</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>{path} is too large for a CAP alert.</source>
        <translation>{path} 过大，不是有效的 CAP 预警。</translation>
    </message>
    <message>
        <source>Weather warning {event} imported: {count} hazard sources warned.</source>
        <translation>已导入气象预警“{event}”：{count} 个危险源收到预警。</translation>
    </message>
    <message>
        <source>Weather warning not imported: {reason}</source>
        <translation>气象预警未导入：{reason}</translation>
    </message>
</context>
<context>
    <name>EnterpriseWorkplace</name>
    <message>
        <source>Workplace of {enterprise} — {user}</source>
        <translation>企业工作台 {enterprise} — {user}</translation>
    </message>
    <message>
        <source>Received notices</source>
        <translation>收到的通知</translation>
    </message>
</context>
<context>
    <name>EventLogPane</name>
    <message>
        <source>Loading this shift&apos;s events…</source>
        <translation>正在载入本班事件…</translation>
    </message>
    <message>
        <source>{count} events of this shift loaded (since {time})</source>
        <translation>已载入本班事件 {count} 条（自 {time} 起）</translation>
    </message>
    <message>
        <source>; older ones are not shown</source>
        <translation>；更早的未显示</translation>
    </message>
    <message>
        <source>The events of this shift could not be loaded: {reason}</source>
        <translation>本班事件未能载入：{reason}</translation>
    </message>
</context>
<context>
    <name>EventText</name>
    <message>
        <source>incident #{id} {title}</source>
        <translation>事件 #{id} {title}</translation>
    </message>
    <message>
        <source>task #{id} ({assignee}) of incident #{incident}</source>
        <translation>事件 #{incident} 的任务 #{id}（{assignee}）</translation>
    </message>
    <message>
        <source>alarms {alarms}</source>
        <translation>警情 {alarms}</translation>
    </message>
    <message>
        <source>plan {plan}</source>
        <translation>预案 {plan}</translation>
    </message>
    <message>
        <source>plan {plan}: ticked {step}</source>
        <translation>预案 {plan}：已勾选 {step}</translation>
    </message>
    <message>
        <source>plan {plan}: unticked {step}</source>
        <translation>预案 {plan}：已取消勾选 {step}</translation>
    </message>
    <message>
        <source>returned</source>
        <translation>退回上级</translation>
    </message>
    <message>
        <source>{deadline} missed</source>
        <translation>{deadline}已超时</translation>
    </message>
    <message>
        <source>{count} attachment(s)</source>
        <translation>{count} 个附件</translation>
    </message>
    <message>
        <source>incident #{id}</source>
        <translation>事件 #{id}</translation>
    </message>
</context>
<context>
    <name>ExerciseDesk</name>
    <message>
        <source>Exercise “{title}” started.</source>
        <translation>演练“{title}”已开始。</translation>
    </message>
    <message>
        <source>Event injected into the exercise.</source>
        <translation>已向演练注入事件。</translation>
    </message>
    <message>
        <source>Exercise “{title}” ended.</source>
        <translation>演练“{title}”已结束。</translation>
    </message>
    <message>
        <source>Exercise: {summary} ({reason})</source>
        <translation>演练：{summary}（{reason}）</translation>
    </message>
</context>
<context>
    <name>ExerciseNotice</name>
    <message>
        <source>Join the exercise</source>
        <translation>加入演练</translation>
    </message>
    <message>
        <source>Exercise “{title}” ({speed}) started by {trainer}; you take part. This window stays live.</source>
        <translation>{trainer} 开始了演练“{title}”（{speed}），您是参演人员。本窗口仍为实战值守。</translation>
    </message>
</context>
<context>
    <name>ExercisePanel</name>
    <message>
        <source>Recordings</source>
        <translation>演练素材</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Inputs</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>Start exercise…</source>
        <translation>开始演练…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>演练场次</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>倍速</translation>
    </message>
    <message>
        <source>Exercise time</source>
        <translation>演练时间</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Injected</source>
        <translation>注入</translation>
    </message>
    <message>
        <source>Participants</source>
        <translation>参演人员</translation>
    </message>
    <message>
        <source>Join</source>
        <translation>加入</translation>
    </message>
    <message>
        <source>Open the exercise console of the run</source>
        <translation>打开该场演练的演练席位</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Recorded seconds to jump to (forward only)</source>
        <translation>跳转到的录制秒数（只能向前）</translation>
    </message>
    <message>
        <source>Jump</source>
        <translation>跳转</translation>
    </message>
    <message>
        <source>Set speed</source>
        <translation>设置倍速</translation>
    </message>
    <message>
        <source>Inject…</source>
        <translation>注入…</translation>
    </message>
    <message>
        <source>End…</source>
        <translation>结束…</translation>
    </message>
    <message>
        <source>Score…</source>
        <translation>评分…</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>End the exercise</source>
        <translation>结束演练</translation>
    </message>
    <message>
        <source>End “{title}” now? The participants&apos; exercise consoles close; its data and score are kept.</source>
        <translation>现在结束“{title}”？参演人员的演练席位将关闭，演练数据和评分会保留。</translation>
    </message>
</context>
<context>
    <name>Exercises</name>
    <message>
        <source>A sensor fails</source>
        <translation>传感器故障</translation>
    </message>
    <message>
        <source>A truck presses SOS</source>
        <translation>车辆按下 SOS</translation>
    </message>
    <message>
        <source>A camera goes offline</source>
        <translation>摄像机离线</translation>
    </message>
    <message>
        <source>A task is declined</source>
        <translation>任务被拒绝</translation>
    </message>
    <message>
        <source>[DRILL] </source>
        <translation>【演练】</translation>
    </message>
    <message>
        <source>Preparing</source>
        <translation>准备中</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Replay finished</source>
        <translation>回放完毕</translation>
    </message>
    <message>
        <source>Ended</source>
        <translation>已结束</translation>
    </message>
    <message>
        <source>Real incident</source>
        <translation>真实事件</translation>
    </message>
    <message>
        <source>Recorded window</source>
        <translation>录制时段</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>想定</translation>
    </message>
</context>
<context>
    <name>FileDialogs</name>
    <message>
        <source>Attach a photo</source>
        <translation>添加照片</translation>
    </message>
    <message>
        <source>Photos and PDF (*.jpg *.jpeg *.png *.webp *.pdf)</source>
        <translation>照片和 PDF (*.jpg *.jpeg *.png *.webp *.pdf)</translation>
    </message>
    <message>
        <source>Choose photos</source>
        <translation>选择照片</translation>
    </message>
    <message>
        <source>Upload a plan document</source>
        <translation>上传预案文档</translation>
    </message>
    <message>
        <source>PDF documents (*.pdf)</source>
        <translation>PDF 文档 (*.pdf)</translation>
    </message>
</context>
<context>
    <name>GeofenceDialog</name>
    <message>
        <source>New geofence</source>
        <translation>新建电子围栏</translation>
    </message>
    <message>
        <source>Geofence {id}</source>
        <translation>电子围栏 {id}</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Corridor width:</source>
        <translation>通道宽度：</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Speed limit:</source>
        <translation>限速：</translation>
    </message>
    <message>
        <source>Alarm level:</source>
        <translation>报警级别：</translation>
    </message>
    <message>
        <source>Dwell time:</source>
        <translation>持续时间：</translation>
    </message>
    <message>
        <source>all vehicles (or ids, comma separated)</source>
        <translation>全部车辆（或填写终端号，逗号分隔）</translation>
    </message>
    <message>
        <source>Vehicles:</source>
        <translation>车辆：</translation>
    </message>
    <message>
        <source>Enforced</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>GeofenceEditor</name>
    <message>
        <source>Geofence (enter/exit)</source>
        <translation>电子围栏（进出）</translation>
    </message>
    <message>
        <source>No-go zone</source>
        <translation>禁行区域</translation>
    </message>
    <message>
        <source>Speed limit zone</source>
        <translation>限速区域</translation>
    </message>
    <message>
        <source>Route corridor</source>
        <translation>规定路线</translation>
    </message>
    <message>
        <source>Draw circle</source>
        <translation>画圆形区域</translation>
    </message>
    <message>
        <source>Draw polygon</source>
        <translation>画多边形区域</translation>
    </message>
    <message>
        <source>Draw route</source>
        <translation>画路线</translation>
    </message>
    <message>
        <source>Click on the map to place points; Enter or double-click ends, Esc cancels</source>
        <translation>在地图上单击放置点；回车或双击结束，Esc 取消</translation>
    </message>
    <message>
        <source>Geofence “{name}” saved</source>
        <translation>电子围栏“{name}”已保存</translation>
    </message>
    <message>
        <source>Geofence “{name}” deleted</source>
        <translation>电子围栏“{name}”已删除</translation>
    </message>
</context>
<context>
    <name>Handover</name>
    <message>
        <source>Open alarms</source>
        <translation>未结警情</translation>
    </message>
    <message>
        <source>Open incidents</source>
        <translation>未结事件</translation>
    </message>
    <message>
        <source>Overdue tasks</source>
        <translation>超时任务</translation>
    </message>
    <message>
        <source>Escalated tasks</source>
        <translation>升级任务</translation>
    </message>
    <message>
        <source>Supervised tasks</source>
        <translation>督办任务</translation>
    </message>
    <message>
        <source>draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>signed</source>
        <translation>已签字</translation>
    </message>
    <message>
        <source>accepted</source>
        <translation>已接班</translation>
    </message>
    <message>
        <source>Whole area</source>
        <translation>全辖区</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Area</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>时限</translation>
    </message>
    <message>
        <source>Desk</source>
        <translation>席位</translation>
    </message>
    <message>
        <source>Leader on duty</source>
        <translation>带班领导</translation>
    </message>
    <message>
        <source>Officers on duty</source>
        <translation>值班员</translation>
    </message>
    <message>
        <source>Shift</source>
        <translation>班次</translation>
    </message>
    <message>
        <source>Now</source>
        <translation>当前</translation>
    </message>
    <message>
        <source>on duty</source>
        <translation>在岗</translation>
    </message>
</context>
<context>
    <name>HandoverDialog</name>
    <message>
        <source>Shift handover</source>
        <translation>交接班</translation>
    </message>
    <message>
        <source>Past handovers</source>
        <translation>历次交接</translation>
    </message>
    <message>
        <source>Notes for the incoming shift</source>
        <translation>交班事项（留给接班人员）</translation>
    </message>
    <message>
        <source>Remark on accepting (optional)</source>
        <translation>接班意见（可选）</translation>
    </message>
    <message>
        <source>Generate report</source>
        <translation>生成交班报告</translation>
    </message>
    <message>
        <source>Sign and hand over</source>
        <translation>签字交班</translation>
    </message>
    <message>
        <source>Accept the shift</source>
        <translation>确认接班</translation>
    </message>
    <message>
        <source>Working…</source>
        <translation>处理中…</translation>
    </message>
    <message>
        <source>No handover on screen: generate the report.</source>
        <translation>尚无交班报告：请先生成。</translation>
    </message>
    <message>
        <source>Handover #{id} ({state}) by {author}</source>
        <translation>交接班 #{id}（{state}），交班人 {author}</translation>
    </message>
    <message>
        <source>shift {start} – {end}</source>
        <translation>班次 {start} – {end}</translation>
    </message>
    <message>
        <source>to {incoming}</source>
        <translation>接班人 {incoming}</translation>
    </message>
    <message>
        <source>accepted by {who} at {at}</source>
        <translation>{who} 于 {at} 接班</translation>
    </message>
</context>
<context>
    <name>InboxPanel</name>
    <message>
        <source>Received notices</source>
        <translation>收到的通知</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Published</source>
        <translation>发布时间</translation>
    </message>
    <message>
        <source>{count} notice(s), {unread} unread</source>
        <translation>共 {count} 条，未读 {unread} 条</translation>
    </message>
    <message>
        <source>[Withdrawn] </source>
        <translation>【已撤回】</translation>
    </message>
    <message>
        <source>What to do: {text}</source>
        <translation>应对措施：{text}</translation>
    </message>
    <message>
        <source>Area: {text}</source>
        <translation>范围：{text}</translation>
    </message>
    <message>
        <source>This notice was withdrawn.</source>
        <translation>此通知已撤回。</translation>
    </message>
    <message>
        <source>No answer in time.</source>
        <translation>服务器未及时应答。</translation>
    </message>
</context>
<context>
    <name>IncidentList</name>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Opened</source>
        <translation>立案时间</translation>
    </message>
    <message>
        <source>Tasks open</source>
        <translation>未办结任务</translation>
    </message>
</context>
<context>
    <name>IncidentWorkspace</name>
    <message>
        <source>Type:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <source>State:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <source>Commander:</source>
        <translation>指挥员：</translation>
    </message>
    <message>
        <source>Jurisdiction:</source>
        <translation>辖区：</translation>
    </message>
    <message>
        <source>Reporter:</source>
        <translation>报告人：</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>Opened:</source>
        <translation>立案：</translation>
    </message>
    <message>
        <source>Alarms:</source>
        <translation>警情：</translation>
    </message>
    <message>
        <source>Feedback:</source>
        <translation>反馈：</translation>
    </message>
    <message>
        <source>Level / commander…</source>
        <translation>定级/指挥员…</translation>
    </message>
    <message>
        <source>Send task…</source>
        <translation>派单…</translation>
    </message>
    <message>
        <source>Show on map</source>
        <translation>地图定位</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <source>Chat is not available yet.</source>
        <translation>会商功能暂不可用。</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>会商</translation>
    </message>
    <message>
        <source>Resources</source>
        <translation>资源推荐</translation>
    </message>
    <message>
        <source>Decision support</source>
        <translation>辅助决策</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>承办方</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>时限</translation>
    </message>
    <message>
        <source>Escalated to</source>
        <translation>已升级至</translation>
    </message>
    <message>
        <source>Supervision</source>
        <translation>督办</translation>
    </message>
    <message>
        <source>Extend…</source>
        <translation>延期…</translation>
    </message>
    <message>
        <source>Supervise…</source>
        <translation>督办…</translation>
    </message>
    <message>
        <source>Answer supervision…</source>
        <translation>答复督办…</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>预案</translation>
    </message>
    <message>
        <source>No incident selected</source>
        <translation>未选择事件</translation>
    </message>
    <message>
        <source>whole area</source>
        <translation>全域</translation>
    </message>
    <message>
        <source>open</source>
        <translation>待答复</translation>
    </message>
    <message>
        <source>Feedback to the reporter (required):</source>
        <translation>向报告人反馈（必填）：</translation>
    </message>
    <message>
        <source>What happened (required):</source>
        <translation>情况说明（必填）：</translation>
    </message>
    <message>
        <source>What was done (required):</source>
        <translation>处置结果（必填）：</translation>
    </message>
    <message>
        <source>The reason (required):</source>
        <translation>原因（必填）：</translation>
    </message>
    <message>
        <source>Answer supervision</source>
        <translation>答复督办</translation>
    </message>
</context>
<context>
    <name>Incidents</name>
    <message>
        <source>Incidents not loaded: </source>
        <translation>事件未能载入：</translation>
    </message>
    <message>
        <source>Incident opened.</source>
        <translation>已立案。</translation>
    </message>
    <message>
        <source>Alarm attached to the incident.</source>
        <translation>警情已并入事件。</translation>
    </message>
    <message>
        <source>Incident updated.</source>
        <translation>事件已更新。</translation>
    </message>
    <message>
        <source>Task sent.</source>
        <translation>任务已下达。</translation>
    </message>
    <message>
        <source>Task updated.</source>
        <translation>任务已更新。</translation>
    </message>
    <message>
        <source>Deadlines changed.</source>
        <translation>时限已调整。</translation>
    </message>
    <message>
        <source>Supervision flagged.</source>
        <translation>已督办。</translation>
    </message>
    <message>
        <source>Supervision answered.</source>
        <translation>督办已答复。</translation>
    </message>
    <message>
        <source>Level I (particularly serious)</source>
        <translation>Ⅰ级（特别重大）</translation>
    </message>
    <message>
        <source>Level II (serious)</source>
        <translation>Ⅱ级（重大）</translation>
    </message>
    <message>
        <source>Level III (relatively serious)</source>
        <translation>Ⅲ级（较大）</translation>
    </message>
    <message>
        <source>Level IV (ordinary)</source>
        <translation>Ⅳ级（一般）</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>已立案</translation>
    </message>
    <message>
        <source>Responding</source>
        <translation>处置中</translation>
    </message>
    <message>
        <source>Under control</source>
        <translation>已控制</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <source>Respond</source>
        <translation>启动处置</translation>
    </message>
    <message>
        <source>Flared up…</source>
        <translation>复燃…</translation>
    </message>
    <message>
        <source>Close…</source>
        <translation>结案…</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>已下达</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>已签收</translation>
    </message>
    <message>
        <source>En route</source>
        <translation>已出发</translation>
    </message>
    <message>
        <source>On scene</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>已拒收</translation>
    </message>
    <message>
        <source>Returned</source>
        <translation>已退回</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已撤销</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>签收</translation>
    </message>
    <message>
        <source>Set out</source>
        <translation>出发</translation>
    </message>
    <message>
        <source>Arrived</source>
        <translation>到场</translation>
    </message>
    <message>
        <source>Finish…</source>
        <translation>办结…</translation>
    </message>
    <message>
        <source>Decline…</source>
        <translation>拒收…</translation>
    </message>
    <message>
        <source>Return…</source>
        <translation>退回…</translation>
    </message>
    <message>
        <source>Cancel task</source>
        <translation>撤销任务</translation>
    </message>
    <message>
        <source>Accept by</source>
        <translation>签收时限</translation>
    </message>
    <message>
        <source>Arrive by</source>
        <translation>到场时限</translation>
    </message>
    <message>
        <source>Finish by</source>
        <translation>办结时限</translation>
    </message>
    <message>
        <source>Village</source>
        <translation>村/社区</translation>
    </message>
    <message>
        <source>Town</source>
        <translation>街道/乡镇</translation>
    </message>
    <message>
        <source>District</source>
        <translation>区县</translation>
    </message>
    <message>
        <source>Agency desk</source>
        <translation>部门席位</translation>
    </message>
    <message>
        <source>Agency supervisor</source>
        <translation>部门值班领导</translation>
    </message>
    <message>
        <source>Command centre</source>
        <translation>指挥中心</translation>
    </message>
    <message>
        <source>{deadline}: overdue {duration}</source>
        <translation>{deadline}：已超时 {duration}</translation>
    </message>
    <message>
        <source>{deadline}: {duration} left</source>
        <translation>{deadline}：剩余 {duration}</translation>
    </message>
    <message>
        <source>Someone changed it meanwhile; it was reloaded. Decide again.</source>
        <translation>其他人刚刚修改过，已重新载入，请重新确认。</translation>
    </message>
    <message>
        <source>Not possible in its current state.</source>
        <translation>当前状态下不能执行此操作。</translation>
    </message>
    <message>
        <source>Not found, or not in your area.</source>
        <translation>不存在，或不在您的辖区内。</translation>
    </message>
    <message>
        <source>You may not do this here.</source>
        <translation>您无权执行此操作。</translation>
    </message>
    <message>
        <source>The server did not accept the input.</source>
        <translation>服务器未接受输入。</translation>
    </message>
    <message>
        <source>Instructions: {text}</source>
        <translation>处置要求：{text}</translation>
    </message>
    <message>
        <source>Last note: {text}</source>
        <translation>最新说明：{text}</translation>
    </message>
    <message>
        <source>Supervision: {note}</source>
        <translation>督办：{note}</translation>
    </message>
</context>
<context>
    <name>IncidentsPanel</name>
    <message>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Workspace</source>
        <translation>工作台</translation>
    </message>
    <message>
        <source>New incident…</source>
        <translation>立案…</translation>
    </message>
</context>
<context>
    <name>InjectDialog</name>
    <message>
        <source>Inject an event – {title}</source>
        <translation>注入事件 – {title}</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Inject</source>
        <translation>注入</translation>
    </message>
    <message>
        <source>The console knows no such target of this exercise: type its code.</source>
        <translation>本席位不知道该演练的此类对象：请输入其编码。</translation>
    </message>
    <message>
        <source>Name the target.</source>
        <translation>请指定对象。</translation>
    </message>
</context>
<context>
    <name>InspectionForm</name>
    <message>
        <source>Record an inspection</source>
        <translation>记录执法检查</translation>
    </message>
    <message>
        <source>Names, separated by commas</source>
        <translation>姓名，用逗号分隔</translation>
    </message>
    <message>
        <source>Enterprise (code)</source>
        <translation>企业（编码）</translation>
    </message>
    <message>
        <source>Inspected at</source>
        <translation>检查时间</translation>
    </message>
    <message>
        <source>Inspectors</source>
        <translation>检查人员</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>检查情况</translation>
    </message>
    <message>
        <source>Add a finding…</source>
        <translation>添加发现的隐患…</translation>
    </message>
    <message>
        <source>Hidden dangers found</source>
        <translation>发现的隐患</translation>
    </message>
</context>
<context>
    <name>JurisdictionPicker</name>
    <message>
        <source>Jurisdiction code (digits)</source>
        <translation>辖区代码（数字）</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <source>New</source>
        <translation>待接警</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已接警</translation>
    </message>
    <message>
        <source>Dispatched</source>
        <translation>已派警</translation>
    </message>
    <message>
        <source>Handling</source>
        <translation>处置中</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已处置</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已消警</translation>
    </message>
    <message>
        <source>False alarm</source>
        <translation>误报</translation>
    </message>
    <message>
        <source>Merged</source>
        <translation>已合并</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>接警</translation>
    </message>
    <message>
        <source>Dispatch…</source>
        <translation>派警…</translation>
    </message>
    <message>
        <source>Start handling</source>
        <translation>开始处置</translation>
    </message>
    <message>
        <source>Resolve…</source>
        <translation>处置完毕…</translation>
    </message>
    <message>
        <source>Reopen…</source>
        <translation>重新处置…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>消警</translation>
    </message>
    <message>
        <source>Mark false…</source>
        <translation>标为误报…</translation>
    </message>
    <message>
        <source>Merge…</source>
        <translation>合并…</translation>
    </message>
    <message>
        <source>Fire</source>
        <translation>火灾</translation>
    </message>
    <message>
        <source>Hazardous chemical leak</source>
        <translation>危化品泄漏</translation>
    </message>
    <message>
        <source>Explosion</source>
        <translation>爆炸</translation>
    </message>
    <message>
        <source>Traffic accident</source>
        <translation>交通事故</translation>
    </message>
    <message>
        <source>Natural disaster</source>
        <translation>自然灾害</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Gas leak</source>
        <translation>气体泄漏</translation>
    </message>
    <message>
        <source>Gas over limit</source>
        <translation>气体超限</translation>
    </message>
    <message>
        <source>Over temperature</source>
        <translation>超温</translation>
    </message>
    <message>
        <source>Over pressure</source>
        <translation>超压</translation>
    </message>
    <message>
        <source>Water quality</source>
        <translation>水质异常</translation>
    </message>
    <message>
        <source>Sensor offline</source>
        <translation>传感器离线</translation>
    </message>
    <message>
        <source>SOS</source>
        <translation>紧急求助</translation>
    </message>
    <message>
        <source>Overspeed</source>
        <translation>超速</translation>
    </message>
    <message>
        <source>Vehicle SOS</source>
        <translation>车辆紧急报警</translation>
    </message>
    <message>
        <source>Vehicle overspeed</source>
        <translation>车辆超速</translation>
    </message>
    <message>
        <source>Fatigue driving</source>
        <translation>疲劳驾驶</translation>
    </message>
    <message>
        <source>Vehicle collision</source>
        <translation>车辆碰撞</translation>
    </message>
    <message>
        <source>Vehicle rollover</source>
        <translation>车辆侧翻</translation>
    </message>
    <message>
        <source>Vehicle offline</source>
        <translation>车辆离线</translation>
    </message>
    <message>
        <source>Vehicle alarm: {code}</source>
        <translation>车辆报警：{code}</translation>
    </message>
    <message>
        <source>Duty officer</source>
        <translation>值班员</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>带班领导</translation>
    </message>
    <message>
        <source>Agency desk</source>
        <translation>联动单位</translation>
    </message>
    <message>
        <source>Viewer (read only)</source>
        <translation>只读查看</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>管理员</translation>
    </message>
    <message>
        <source>Trainer</source>
        <translation>演练导调</translation>
    </message>
    <message>
        <source>Enterprise</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Emergency management</source>
        <translation>应急管理</translation>
    </message>
    <message>
        <source>Health / 120</source>
        <translation>卫健/120</translation>
    </message>
    <message>
        <source>Housing and construction</source>
        <translation>住建</translation>
    </message>
    <message>
        <source>Meteorology</source>
        <translation>气象</translation>
    </message>
    <message>
        <source>Fire and rescue</source>
        <translation>消防救援</translation>
    </message>
    <message>
        <source>Police</source>
        <translation>公安</translation>
    </message>
    <message>
        <source>Medical</source>
        <translation>医疗急救</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>生态环境</translation>
    </message>
    <message>
        <source>Transport</source>
        <translation>交通运输</translation>
    </message>
    <message>
        <source>Safety supervision</source>
        <translation>安全监管</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Methane</source>
        <translation>甲烷</translation>
    </message>
    <message>
        <source>Carbon monoxide</source>
        <translation>一氧化碳</translation>
    </message>
    <message>
        <source>Hydrogen sulphide</source>
        <translation>硫化氢</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Pressure</source>
        <translation>压力</translation>
    </message>
    <message>
        <source>Liquid level</source>
        <translation>液位</translation>
    </message>
    <message>
        <source>Phone report</source>
        <translation>电话报警</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备报警</translation>
    </message>
    <message>
        <source>Caller&apos;s name</source>
        <translation>报警人姓名</translation>
    </message>
    <message>
        <source>Caller&apos;s phone</source>
        <translation>报警人电话</translation>
    </message>
    <message>
        <source>Caller&apos;s address</source>
        <translation>报警人地址</translation>
    </message>
    <message>
        <source>Sensitive note</source>
        <translation>敏感信息</translation>
    </message>
    <message>
        <source>Alarm raised</source>
        <translation>新警情</translation>
    </message>
    <message>
        <source>Alarm repeated</source>
        <translation>重复报警</translation>
    </message>
    <message>
        <source>Alarm level changed</source>
        <translation>级别变更</translation>
    </message>
    <message>
        <source>Alarm restored</source>
        <translation>报警恢复</translation>
    </message>
    <message>
        <source>Alarm changed</source>
        <translation>状态变更</translation>
    </message>
    <message>
        <source>Units dispatched</source>
        <translation>派警</translation>
    </message>
    <message>
        <source>Alarm merged in</source>
        <translation>并入警情</translation>
    </message>
    <message>
        <source>Personal data viewed</source>
        <translation>查看个人信息</translation>
    </message>
    <message>
        <source>Too many personal data views refused</source>
        <translation>查看个人信息过于频繁，已拒绝</translation>
    </message>
    <message>
        <source>Device online</source>
        <translation>设备上线</translation>
    </message>
    <message>
        <source>Device offline</source>
        <translation>设备离线</translation>
    </message>
    <message>
        <source>Device registered</source>
        <translation>设备登记</translation>
    </message>
    <message>
        <source>Device removed</source>
        <translation>设备注销</translation>
    </message>
    <message>
        <source>Geofence saved</source>
        <translation>电子围栏保存</translation>
    </message>
    <message>
        <source>Geofence deleted</source>
        <translation>电子围栏删除</translation>
    </message>
    <message>
        <source>Alarm shared</source>
        <translation>警情已共享</translation>
    </message>
    <message>
        <source>Alarm share revoked</source>
        <translation>警情共享已撤销</translation>
    </message>
    <message>
        <source>Camera shared</source>
        <translation>视频已共享</translation>
    </message>
    <message>
        <source>Camera share revoked</source>
        <translation>视频共享已撤销</translation>
    </message>
    <message>
        <source>Jurisdictions imported</source>
        <translation>辖区导入</translation>
    </message>
    <message>
        <source>Incident opened</source>
        <translation>事件立案</translation>
    </message>
    <message>
        <source>Alarm attached to incident</source>
        <translation>警情并入事件</translation>
    </message>
    <message>
        <source>Incident changed</source>
        <translation>事件变更</translation>
    </message>
    <message>
        <source>Task sent</source>
        <translation>任务下达</translation>
    </message>
    <message>
        <source>Task changed</source>
        <translation>任务状态变更</translation>
    </message>
    <message>
        <source>Task escalated</source>
        <translation>任务超时升级</translation>
    </message>
    <message>
        <source>Task under supervision</source>
        <translation>任务督办</translation>
    </message>
    <message>
        <source>Supervision answered</source>
        <translation>督办已回复</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Messages read</source>
        <translation>消息已读</translation>
    </message>
    <message>
        <source>Shift handed over</source>
        <translation>已交班</translation>
    </message>
    <message>
        <source>Shift taken over</source>
        <translation>接班确认</translation>
    </message>
    <message>
        <source>Registry item changed</source>
        <translation>台账变更</translation>
    </message>
    <message>
        <source>Registry contacts viewed</source>
        <translation>查看台账联系方式</translation>
    </message>
    <message>
        <source>Registry imported</source>
        <translation>台账导入</translation>
    </message>
    <message>
        <source>Exercise started</source>
        <translation>演练开始</translation>
    </message>
    <message>
        <source>Exercise changed</source>
        <translation>演练变更</translation>
    </message>
    <message>
        <source>Exercise event injected</source>
        <translation>演练注入事件</translation>
    </message>
    <message>
        <source>Exercise ended</source>
        <translation>演练结束</translation>
    </message>
    <message>
        <source>Recording made</source>
        <translation>已生成录制</translation>
    </message>
    <message>
        <source>Plan step ticked</source>
        <translation>预案步骤勾选</translation>
    </message>
    <message>
        <source>Early warning raised</source>
        <translation>发布预警</translation>
    </message>
    <message>
        <source>Early warning changed</source>
        <translation>预警变更</translation>
    </message>
    <message>
        <source>Early warning ended</source>
        <translation>预警结束</translation>
    </message>
    <message>
        <source>Weather warning imported</source>
        <translation>导入气象预警</translation>
    </message>
    <message>
        <source>Notice drafted</source>
        <translation>发布信息起草</translation>
    </message>
    <message>
        <source>Notice submitted for approval</source>
        <translation>发布信息提交审批</translation>
    </message>
    <message>
        <source>Notice sent back</source>
        <translation>发布信息被退回</translation>
    </message>
    <message>
        <source>Notice published</source>
        <translation>信息已发布</translation>
    </message>
    <message>
        <source>Notice withdrawn</source>
        <translation>发布信息已撤回</translation>
    </message>
    <message>
        <source>Notice delivery</source>
        <translation>发布送达情况</translation>
    </message>
    <message>
        <source>Hidden danger reported</source>
        <translation>隐患上报</translation>
    </message>
    <message>
        <source>Hidden danger changed</source>
        <translation>隐患状态变更</translation>
    </message>
    <message>
        <source>Hidden danger overdue</source>
        <translation>隐患逾期</translation>
    </message>
    <message>
        <source>Hidden danger escalated</source>
        <translation>隐患升级督办</translation>
    </message>
    <message>
        <source>Inspection recorded</source>
        <translation>执法检查记录</translation>
    </message>
    <message>
        <source>Someone else changed this alarm meanwhile. Check its current state and decide again.</source>
        <translation>该警情已被他人更新，请查看最新状态后重新操作。</translation>
    </message>
    <message>
        <source>This action is not allowed in the alarm&apos;s current state.</source>
        <translation>警情当前状态下不允许此操作。</translation>
    </message>
    <message>
        <source>Your role does not allow this.</source>
        <translation>您的角色无权执行此操作。</translation>
    </message>
    <message>
        <source>You are not logged in, or your session has ended.</source>
        <translation>未登录或会话已结束。</translation>
    </message>
    <message>
        <source>The alarm or unit was not found.</source>
        <translation>未找到该警情或单位。</translation>
    </message>
    <message>
        <source>The server did not accept the input.</source>
        <translation>服务器未接受输入的内容。</translation>
    </message>
    <message>
        <source>The server could not read the command.</source>
        <translation>服务器无法识别该命令。</translation>
    </message>
    <message>
        <source>Too many commands in a short time; wait a moment and try again.</source>
        <translation>操作过于频繁，请稍候再试。</translation>
    </message>
    <message>
        <source>The server failed to carry out the command.</source>
        <translation>服务器执行命令失败。</translation>
    </message>
    <message>
        <source>Too many commands are waiting for the connection; try again later.</source>
        <translation>待发送的命令过多，请稍后再试。</translation>
    </message>
    <message>
        <source>The command got no answer in time and was not carried out.</source>
        <translation>命令超时未得到响应，未执行。</translation>
    </message>
    <message>
        <source>Not logged in to a server.</source>
        <translation>尚未登录服务器。</translation>
    </message>
    <message>
        <source>The command failed.</source>
        <translation>命令执行失败。</translation>
    </message>
    <message>
        <source>{hours} h {minutes:02d} min</source>
        <translation>{hours}小时{minutes:02d}分</translation>
    </message>
    <message>
        <source>{minutes} min {seconds} s</source>
        <translation>{minutes}分{seconds}秒</translation>
    </message>
    <message>
        <source>{seconds} s</source>
        <translation>{seconds}秒</translation>
    </message>
    <message>
        <source>your password was changed</source>
        <translation>您的密码已被修改</translation>
    </message>
    <message>
        <source>your role, agency or jurisdiction was changed</source>
        <translation>您的角色、所属单位或辖区已变更</translation>
    </message>
    <message>
        <source>your account was disabled</source>
        <translation>您的账号已被停用</translation>
    </message>
    <message>
        <source>an administrator logged you out</source>
        <translation>管理员已将您注销</translation>
    </message>
    <message>
        <source>your second factor was changed</source>
        <translation>您的第二重验证已变更</translation>
    </message>
    <message>
        <source>too many wrong passwords on the lock screen</source>
        <translation>锁屏时密码输错次数过多</translation>
    </message>
    <message>
        <source>the session expired</source>
        <translation>会话已过期</translation>
    </message>
    <message>
        <source>the session was closed</source>
        <translation>会话已关闭</translation>
    </message>
    <message>
        <source>The verification code is missing, wrong or was used already.</source>
        <translation>验证码未填写、不正确或已使用过。</translation>
    </message>
    <message>
        <source>Wrong password ({tries} tries left before the session ends).</source>
        <translation>密码错误（再错 {tries} 次将结束会话）。</translation>
    </message>
    <message>
        <source>Wrong password.</source>
        <translation>密码错误。</translation>
    </message>
    <message>
        <source> Try again in {seconds} s.</source>
        <translation>请 {seconds} 秒后再试。</translation>
    </message>
    <message>
        <source>Too many failed logins from this computer or for this user; the server refuses logins for a while.</source>
        <translation>本机或该用户登录失败次数过多，服务器暂时拒绝登录。</translation>
    </message>
    <message>
        <source>The server is busy or its database is unavailable; the login was not checked.</source>
        <translation>服务器繁忙或数据库暂不可用，尚未校验登录。</translation>
    </message>
    <message>
        <source>The server refused the connection (HTTP {status}).</source>
        <translation>服务器拒绝了连接（HTTP {status}）。</translation>
    </message>
    <message>
        <source>Sensor reading above limit</source>
        <translation>监测值超上限</translation>
    </message>
    <message>
        <source>Sensor reading below limit</source>
        <translation>监测值低于下限</translation>
    </message>
    <message>
        <source>Sensor reading rising fast</source>
        <translation>监测值快速上升</translation>
    </message>
    <message>
        <source>Sensor reading falling fast</source>
        <translation>监测值快速下降</translation>
    </message>
    <message>
        <source>Vehicle entered geofence</source>
        <translation>车辆驶入电子围栏</translation>
    </message>
    <message>
        <source>Vehicle left geofence</source>
        <translation>车辆驶出电子围栏</translation>
    </message>
    <message>
        <source>Vehicle in no-go zone</source>
        <translation>车辆进入禁行区</translation>
    </message>
    <message>
        <source>Vehicle off route</source>
        <translation>车辆偏离路线</translation>
    </message>
    <message>
        <source>Vehicle parked too long</source>
        <translation>车辆超时停车</translation>
    </message>
    <message>
        <source>Vehicle driving at night</source>
        <translation>车辆夜间行驶</translation>
    </message>
    <message>
        <source>Danger warning</source>
        <translation>危险预警</translation>
    </message>
    <message>
        <source>GNSS module fault</source>
        <translation>GNSS 模块故障</translation>
    </message>
    <message>
        <source>GNSS antenna disconnected</source>
        <translation>GNSS 天线未接或被剪断</translation>
    </message>
    <message>
        <source>GNSS antenna short circuit</source>
        <translation>GNSS 天线短路</translation>
    </message>
    <message>
        <source>Terminal power low</source>
        <translation>终端主电源欠压</translation>
    </message>
    <message>
        <source>Terminal power lost</source>
        <translation>终端主电源掉电</translation>
    </message>
    <message>
        <source>Terminal display fault</source>
        <translation>终端 LCD 故障</translation>
    </message>
    <message>
        <source>Voice module fault</source>
        <translation>TTS 模块故障</translation>
    </message>
    <message>
        <source>Vehicle camera fault</source>
        <translation>摄像头故障</translation>
    </message>
    <message>
        <source>IC card module fault</source>
        <translation>IC 卡模块故障</translation>
    </message>
    <message>
        <source>Overspeed warning</source>
        <translation>超速预警</translation>
    </message>
    <message>
        <source>Fatigue driving warning</source>
        <translation>疲劳驾驶预警</translation>
    </message>
    <message>
        <source>Driving violation</source>
        <translation>违规行驶报警</translation>
    </message>
    <message>
        <source>Tyre pressure warning</source>
        <translation>胎压预警</translation>
    </message>
    <message>
        <source>Right-turn blind spot alarm</source>
        <translation>右转盲区异常报警</translation>
    </message>
    <message>
        <source>Daily driving time exceeded</source>
        <translation>当天累计驾驶超时</translation>
    </message>
    <message>
        <source>Vehicle entered or left an area</source>
        <translation>进出区域</translation>
    </message>
    <message>
        <source>Vehicle entered or left a route</source>
        <translation>进出路线</translation>
    </message>
    <message>
        <source>Road section time too short or long</source>
        <translation>路段行驶时间不足/过长</translation>
    </message>
    <message>
        <source>Vehicle speed sensor fault</source>
        <translation>车辆 VSS 故障</translation>
    </message>
    <message>
        <source>Fuel level abnormal</source>
        <translation>车辆油量异常</translation>
    </message>
    <message>
        <source>Vehicle stolen</source>
        <translation>车辆被盗</translation>
    </message>
    <message>
        <source>Illegal ignition</source>
        <translation>车辆非法点火</translation>
    </message>
    <message>
        <source>Illegal displacement</source>
        <translation>车辆非法位移</translation>
    </message>
    <message>
        <source>Sensor alarm: {code}</source>
        <translation>传感器报警：{code}</translation>
    </message>
    <message>
        <source>Vehicle collision or rollover</source>
        <translation>碰撞侧翻报警</translation>
    </message>
    <message>
        <source>Door opened illegally</source>
        <translation>非法开门</translation>
    </message>
    <message>
        <source>Vehicle command</source>
        <translation>车辆指令</translation>
    </message>
</context>
<context>
    <name>LockOverlay</name>
    <message>
        <source>Console locked</source>
        <translation>值班台已锁定</translation>
    </message>
    <message>
        <source>Logged in as {user}. Enter the password to go on.</source>
        <translation>当前登录用户：{user}。请输入密码继续。</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>密码：</translation>
    </message>
    <message>
        <source>6 digits from the authenticator app</source>
        <translation>身份验证器应用中的 6 位数字</translation>
    </message>
    <message>
        <source>Verification code:</source>
        <translation>验证码：</translation>
    </message>
    <message>
        <source>Enter the password.</source>
        <translation>请输入密码。</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在验证…</translation>
    </message>
    <message>
        <source>New alarms while locked: {count}</source>
        <translation>锁定期间新到警情：{count} 条</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>DutyDesk – log in</source>
        <translation>值班台 – 登录</translation>
    </message>
    <message>
        <source>Several servers (instances of one system) separated by commas: the console moves to the next when one cannot be reached.</source>
        <translation>同一系统的多个服务器（实例）用逗号分隔：连不上一个时，值班台自动转到下一个。</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>服务器：</translation>
    </message>
    <message>
        <source>User:</source>
        <translation>用户名：</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>密码：</translation>
    </message>
    <message>
        <source>6 digits from the authenticator app</source>
        <translation>身份验证器应用中的 6 位数字</translation>
    </message>
    <message>
        <source>Verification code:</source>
        <translation>验证码：</translation>
    </message>
    <message>
        <source>for wss:// only; empty: the system&apos;s CAs</source>
        <translation>仅用于 wss://；留空则使用系统 CA</translation>
    </message>
    <message>
        <source>CA certificate:</source>
        <translation>CA 证书：</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Each server address must start with ws:// or wss://.</source>
        <translation>每个服务器地址都必须以 ws:// 或 wss:// 开头。</translation>
    </message>
    <message>
        <source>Enter the user name and the password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>DutyDesk – duty console</source>
        <translation>值班台</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>Alarm detail</source>
        <translation>警情详情</translation>
    </message>
    <message>
        <source>Event log</source>
        <translation>事件日志</translation>
    </message>
    <message>
        <source>Sensor trends</source>
        <translation>传感器趋势</translation>
    </message>
    <message>
        <source>Vehicles</source>
        <translation>车辆</translation>
    </message>
    <message>
        <source>Track replay</source>
        <translation>轨迹回放</translation>
    </message>
    <message>
        <source>Site detail</source>
        <translation>点位详情</translation>
    </message>
    <message>
        <source>Incidents and tasks</source>
        <translation>事件与任务</translation>
    </message>
    <message>
        <source>New alarm…</source>
        <translation>接警录入…</translation>
    </message>
    <message>
        <source>Mute alarm sound</source>
        <translation>警报静音</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Reset layout</source>
        <translation>恢复默认布局</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>&amp;Alarm</source>
        <translation>警情(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Hidden dangers</source>
        <translation>隐患排查治理</translation>
    </message>
    <message>
        <source>Hidden &amp;dangers</source>
        <translation>隐患(&amp;D)</translation>
    </message>
    <message>
        <source>Hidden danger board</source>
        <translation>隐患排查治理台</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>DutyDesk – enterprise workplace – {user}</source>
        <translation>值班台 – 企业工作台 – {user}</translation>
    </message>
    <message>
        <source>Geofences</source>
        <translation>电子围栏</translation>
    </message>
    <message>
        <source>&amp;Geofences</source>
        <translation>电子围栏(&amp;G)</translation>
    </message>
    <message>
        <source>Watch the camera nearest the alarm</source>
        <translation>查看警情最近的摄像机</translation>
    </message>
    <message>
        <source>&amp;Cameras</source>
        <translation>摄像机(&amp;C)</translation>
    </message>
    <message>
        <source>The language changes the next time DutyDesk starts.</source>
        <translation>界面语言将在下次启动值班台时生效。</translation>
    </message>
    <message>
        <source>DutyDesk – duty console – {user}</source>
        <translation>值班台 – {user}</translation>
    </message>
    <message>
        <source>Alarm {alarm_id}: </source>
        <translation>{alarm_id} 号警情：</translation>
    </message>
    <message>
        <source>Alarm {alarm_id} entered.</source>
        <translation>已录入 {alarm_id} 号警情。</translation>
    </message>
    <message>
        <source>Alarm {alarm_id}: {action} done.</source>
        <translation>{alarm_id} 号警情：{action}完成。</translation>
    </message>
    <message>
        <source>Who is logged in…</source>
        <translation>在线会话…</translation>
    </message>
    <message>
        <source>A&amp;dministration</source>
        <translation>管理(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Shift</source>
        <translation>值班(&amp;S)</translation>
    </message>
    <message>
        <source>Shift handover…</source>
        <translation>交接班…</translation>
    </message>
    <message>
        <source>Duty roster</source>
        <translation>值班表</translation>
    </message>
    <message>
        <source>Assessment…</source>
        <translation>量化考核…</translation>
    </message>
    <message>
        <source>&amp;Reports</source>
        <translation>报表(&amp;R)</translation>
    </message>
    <message>
        <source>Report an event…</source>
        <translation>事件上报…</translation>
    </message>
    <message>
        <source>My reports</source>
        <translation>我的上报</translation>
    </message>
    <message>
        <source>&amp;Grid</source>
        <translation>网格(&amp;G)</translation>
    </message>
    <message>
        <source>Grid reports</source>
        <translation>网格上报</translation>
    </message>
    <message>
        <source>Registry</source>
        <translation>台账</translation>
    </message>
    <message>
        <source>Re&amp;gistry</source>
        <translation>台账(&amp;G)</translation>
    </message>
    <message>
        <source>Show every kind on the map</source>
        <translation>在地图上显示全部台账</translation>
    </message>
    <message>
        <source>Select an alarm that allows this first.</source>
        <translation>请先选择一条允许此操作的警情。</translation>
    </message>
    <message>
        <source>{count} unacknowledged alarms are hidden by the filter.</source>
        <translation>有 {count} 条未接警情被筛选隐藏。</translation>
    </message>
    <message>
        <source>No other unacknowledged alarm.</source>
        <translation>没有其他未接警情。</translation>
    </message>
    <message>
        <source>Select an alarm with a place first.</source>
        <translation>请先选择一条有位置的警情。</translation>
    </message>
    <message>
        <source>Unmute this alarm</source>
        <translation>取消此警情静音</translation>
    </message>
    <message>
        <source>Mute this alarm</source>
        <translation>此警情静音</translation>
    </message>
    <message>
        <source>Exercises</source>
        <translation>演练</translation>
    </message>
    <message>
        <source>E&amp;xercises</source>
        <translation>演练(&amp;X)</translation>
    </message>
    <message>
        <source>Exercises panel</source>
        <translation>演练面板</translation>
    </message>
    <message>
        <source>Join the exercise I take part in</source>
        <translation>加入我参演的演练</translation>
    </message>
    <message>
        <source>Publishing…</source>
        <translation>信息发布…</translation>
    </message>
    <message>
        <source>Received notices</source>
        <translation>收到的通知</translation>
    </message>
    <message>
        <source>&amp;Publishing</source>
        <translation>信息发布(&amp;P)</translation>
    </message>
</context>
<context>
    <name>ManualAlarmDialog</name>
    <message>
        <source>Enter the place.</source>
        <translation>请填写事发地点。</translation>
    </message>
    <message>
        <source>The place is too long.</source>
        <translation>地点过长。</translation>
    </message>
    <message>
        <source>Enter the caller&apos;s phone number.</source>
        <translation>请填写报警人电话。</translation>
    </message>
    <message>
        <source>The phone number may contain only digits, spaces, - and +.</source>
        <translation>电话号码只能包含数字、空格、- 和 +。</translation>
    </message>
    <message>
        <source>Give both latitude and longitude, or neither.</source>
        <translation>经纬度须同时填写或都不填。</translation>
    </message>
    <message>
        <source>Latitude must be a number from -90 to 90.</source>
        <translation>纬度须为 -90 到 90 之间的数字。</translation>
    </message>
    <message>
        <source>Longitude must be a number from -180 to 180.</source>
        <translation>经度须为 -180 到 180 之间的数字。</translation>
    </message>
    <message>
        <source>The description is too long.</source>
        <translation>警情描述过长。</translation>
    </message>
    <message>
        <source>The caller&apos;s address is too long.</source>
        <translation>报警人地址过长。</translation>
    </message>
    <message>
        <source>The sensitive note is too long.</source>
        <translation>敏感信息过长。</translation>
    </message>
    <message>
        <source>New alarm (phone report)</source>
        <translation>接警录入（电话报警）</translation>
    </message>
    <message>
        <source>Caller name:</source>
        <translation>报警人姓名：</translation>
    </message>
    <message>
        <source>Caller phone:</source>
        <translation>报警人电话：</translation>
    </message>
    <message>
        <source>Where the caller is, if it matters (stored encrypted)</source>
        <translation>报警人所在地址（如需要；加密存储）</translation>
    </message>
    <message>
        <source>Caller address:</source>
        <translation>报警人地址：</translation>
    </message>
    <message>
        <source>Type:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <source>Address or landmark as the caller gives it</source>
        <translation>报警人所述地址或地标</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>latitude (optional)</source>
        <translation>纬度（选填）</translation>
    </message>
    <message>
        <source>longitude (optional)</source>
        <translation>经度（选填）</translation>
    </message>
    <message>
        <source>Coordinates (WGS-84):</source>
        <translation>坐标（WGS-84）：</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>警情描述：</translation>
    </message>
    <message>
        <source>Persons under special care, health status… Stored encrypted and shown only to those who reveal it, with a reason.</source>
        <translation>特殊关爱人员、健康状况等……加密存储，仅在说明理由查看后显示。</translation>
    </message>
    <message>
        <source>Sensitive note:</source>
        <translation>敏感信息：</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>提交</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>MapLayers</name>
    <message>
        <source>Raster tiles</source>
        <translation>栅格瓦片</translation>
    </message>
    <message>
        <source>Roads</source>
        <translation>道路</translation>
    </message>
    <message>
        <source>Countries</source>
        <translation>国家</translation>
    </message>
    <message>
        <source>Provinces</source>
        <translation>省级</translation>
    </message>
    <message>
        <source>Cities</source>
        <translation>地市</translation>
    </message>
    <message>
        <source>Counties</source>
        <translation>区县</translation>
    </message>
    <message>
        <source>Jurisdictions</source>
        <translation>辖区边界</translation>
    </message>
    <message>
        <source>Geofences and routes</source>
        <translation>电子围栏与路线</translation>
    </message>
    <message>
        <source>Replayed track</source>
        <translation>回放轨迹</translation>
    </message>
    <message>
        <source>Hazard sources</source>
        <translation>危险源</translation>
    </message>
    <message>
        <source>Teams and resources</source>
        <translation>救援队伍与物资</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>视频监控</translation>
    </message>
    <message>
        <source>Registry items</source>
        <translation>台账对象</translation>
    </message>
    <message>
        <source>Vehicles</source>
        <translation>车辆</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>警情</translation>
    </message>
    <message>
        <source>Decision support zones</source>
        <translation>辅助决策范围</translation>
    </message>
</context>
<context>
    <name>MapLegend</name>
    <message>
        <source>Vehicle in alarm</source>
        <translation>车辆报警</translation>
    </message>
    <message>
        <source>Vehicle offline</source>
        <translation>车辆离线</translation>
    </message>
    <message>
        <source>Vehicle moving</source>
        <translation>车辆行驶中</translation>
    </message>
    <message>
        <source>Vehicle stopped</source>
        <translation>车辆停驶</translation>
    </message>
    <message>
        <source>Alarm not yet acknowledged</source>
        <translation>未接警的警情</translation>
    </message>
    <message>
        <source>Alarm, {level}</source>
        <translation>警情（{level}）</translation>
    </message>
    <message>
        <source>Motorway</source>
        <translation>高速公路</translation>
    </message>
    <message>
        <source>Trunk road</source>
        <translation>快速路/国道</translation>
    </message>
    <message>
        <source>Primary road</source>
        <translation>主干道</translation>
    </message>
    <message>
        <source>Secondary road</source>
        <translation>次干道</translation>
    </message>
    <message>
        <source>Tertiary road</source>
        <translation>支路</translation>
    </message>
    <message>
        <source>Street</source>
        <translation>街巷</translation>
    </message>
    <message>
        <source>Service road</source>
        <translation>内部道路</translation>
    </message>
    <message>
        <source>{layer} boundary</source>
        <translation>{layer}边界</translation>
    </message>
    <message>
        <source>Area around the view&apos;s centre</source>
        <translation>当前所在区域</translation>
    </message>
    <message>
        <source>Legend</source>
        <translation>图例</translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <source>{label}
{speed:.0f} km/h, heading {heading:.0f}°
fix {age} s ago</source>
        <translation>{label}
{speed:.0f} 公里/小时，方向 {heading:.0f}°
定位于 {age} 秒前</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <source>Frame all</source>
        <translation>全览</translation>
    </message>
    <message>
        <source>Show every vehicle and open alarm (Home)</source>
        <translation>显示全部车辆和未结警情（Home）</translation>
    </message>
    <message>
        <source>Legend</source>
        <translation>图例</translation>
    </message>
    <message>
        <source>{count} vehicles, newest fix {age} s ago</source>
        <translation>{count} 辆车，最新定位 {age} 秒前</translation>
    </message>
    <message>
        <source>{count} vehicles (click to zoom in)</source>
        <translation>{count} 辆车（点击放大）</translation>
    </message>
    <message>
        <source>including an alarm</source>
        <translation>其中有报警车辆</translation>
    </message>
    <message>
        <source>{count} alarms (click to zoom in)</source>
        <translation>{count} 条警情（点击放大）</translation>
    </message>
    <message>
        <source>Lat {lat:.5f}°  Lon {lon:.5f}°</source>
        <translation>纬度 {lat:.5f}°  经度 {lon:.5f}°</translation>
    </message>
    <message>
        <source> › </source>
        <translation> › </translation>
    </message>
</context>
<context>
    <name>MergeDialog</name>
    <message>
        <source>Merge alarm {alarm_id}</source>
        <translation>合并 {alarm_id} 号警情</translation>
    </message>
    <message>
        <source>Merge into alarm No.:</source>
        <translation>并入警情编号：</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
    <message>
        <source>Merge</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Enter the number of the alarm this one duplicates.</source>
        <translation>请输入与本警情重复的警情编号。</translation>
    </message>
    <message>
        <source>An alarm cannot be merged into itself.</source>
        <translation>警情不能并入自身。</translation>
    </message>
    <message>
        <source>No alarm No. {alarm_id} is known.</source>
        <translation>没有编号为 {alarm_id} 的警情。</translation>
    </message>
    <message>
        <source>Alarm No. {alarm_id} is already finished.</source>
        <translation>{alarm_id} 号警情已结束。</translation>
    </message>
</context>
<context>
    <name>MyReportsView</name>
    <message>
        <source>My reports</source>
        <translation>我的上报</translation>
    </message>
    <message>
        <source>Reported</source>
        <translation>上报时间</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>事件类型</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>地点</translation>
    </message>
    <message>
        <source>State</source>
        <translation>事件状态</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Task now</source>
        <translation>任务进展</translation>
    </message>
    <message>
        <source>Feedback</source>
        <translation>反馈</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>{count} report(s)</source>
        <translation>共 {count} 条上报</translation>
    </message>
    <message>
        <source>Not read: {reason}</source>
        <translation>未能读取：{reason}</translation>
    </message>
    <message>
        <source>no grid task</source>
        <translation>无网格任务</translation>
    </message>
</context>
<context>
    <name>NewIncidentDialog</name>
    <message>
        <source>New incident</source>
        <translation>立案</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Type:</source>
        <translation>事件类型：</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>事件描述：</translation>
    </message>
    <message>
        <source>The type&apos;s default</source>
        <translation>按事件类型默认</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
</context>
<context>
    <name>NoteDialog</name>
    <message>
        <source>{action}: alarm {alarm_id}</source>
        <translation>{action}：{alarm_id} 号警情</translation>
    </message>
    <message>
        <source>Note (required):</source>
        <translation>备注（必填）：</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>备注：</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>NoticeEditor</name>
    <message>
        <source>Draft a notice</source>
        <translation>起草发布信息</translation>
    </message>
    <message>
        <source>e.g. hazardous chemical leak, rainstorm</source>
        <translation>如：危险化学品泄漏、暴雨</translation>
    </message>
    <message>
        <source>What recipients should do</source>
        <translation>接收方应采取的措施</translation>
    </message>
    <message>
        <source>region codes, e.g. 330106 330105</source>
        <translation>行政区划代码，如 330106 330105</translation>
    </message>
    <message>
        <source>optional: lat,lon; lat,lon; lat,lon</source>
        <translation>可选：纬度,经度; 纬度,经度; 纬度,经度</translation>
    </message>
    <message>
        <source>the area in words (default: the places)</source>
        <translation>范围描述（默认：所选辖区名称）</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>事件类型</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>正文</translation>
    </message>
    <message>
        <source>Instruction</source>
        <translation>应对措施</translation>
    </message>
    <message>
        <source>For</source>
        <translation>发布对象</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>发布渠道</translation>
    </message>
    <message>
        <source>Jurisdictions</source>
        <translation>辖区</translation>
    </message>
    <message>
        <source>Polygon</source>
        <translation>多边形范围</translation>
    </message>
    <message>
        <source>Area description</source>
        <translation>范围描述</translation>
    </message>
    <message>
        <source>Choose who the notice is for.</source>
        <translation>请选择发布对象。</translation>
    </message>
    <message>
        <source>Choose at least one channel.</source>
        <translation>请至少选择一个发布渠道。</translation>
    </message>
</context>
<context>
    <name>OpenIncidentDialog</name>
    <message>
        <source>Raise an incident from alarm {alarm_id}</source>
        <translation>由警情 {alarm_id} 立案</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Type (default: suggested by the alarm type):</source>
        <translation>事件类型（不选则按警情类型推荐）：</translation>
    </message>
    <message>
        <source>The type&apos;s default</source>
        <translation>按事件类型默认</translation>
    </message>
    <message>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
</context>
<context>
    <name>PlanDocumentsBox</name>
    <message>
        <source>Plan documents</source>
        <translation>预案文档</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Upload plan document…</source>
        <translation>上传预案文档…</translation>
    </message>
    <message>
        <source>No documents yet.</source>
        <translation>暂无文档。</translation>
    </message>
    <message>
        <source>Document {id}</source>
        <translation>文档 {id}</translation>
    </message>
    <message>
        <source>Fetching the plan&apos;s document…</source>
        <translation>正在获取预案文档…</translation>
    </message>
    <message>
        <source>The plan&apos;s document could not be fetched: {reason}</source>
        <translation>无法获取预案文档：{reason}</translation>
    </message>
    <message>
        <source>Only PDF files can be a plan&apos;s document.</source>
        <translation>预案文档只能是 PDF 文件。</translation>
    </message>
    <message>
        <source>A plan holds at most {count} documents.</source>
        <translation>一个预案最多 {count} 个文档。</translation>
    </message>
    <message>
        <source>{name} was not attached: {reason}</source>
        <translation>{name} 未能上传：{reason}</translation>
    </message>
    <message>
        <source>{name} attached to the plan.</source>
        <translation>{name} 已上传到预案。</translation>
    </message>
</context>
<context>
    <name>ProjectionOverlay</name>
    <message>
        <source>predicted {time}</source>
        <translation>预计 {time}</translation>
    </message>
</context>
<context>
    <name>Publishing</name>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>通知</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Awaiting approval</source>
        <translation>待审批</translation>
    </message>
    <message>
        <source>Sent back</source>
        <translation>已退回</translation>
    </message>
    <message>
        <source>Published</source>
        <translation>已发布</translation>
    </message>
    <message>
        <source>Withdrawn</source>
        <translation>已撤回</translation>
    </message>
    <message>
        <source>Enterprises</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Agencies</source>
        <translation>联动部门</translation>
    </message>
    <message>
        <source>Public</source>
        <translation>公众</translation>
    </message>
    <message>
        <source>Console</source>
        <translation>控制台</translation>
    </message>
    <message>
        <source>SMS</source>
        <translation>短信</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>邮件</translation>
    </message>
    <message>
        <source>CAP feed</source>
        <translation>CAP 发布源</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>已发送</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>已送达</translation>
    </message>
    <message>
        <source>Read</source>
        <translation>已读</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Enterprise</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>recipients&apos; consoles: {count}</source>
        <translation>送达控制台 {count} 个</translation>
    </message>
</context>
<context>
    <name>PublishingPanel</name>
    <message>
        <source>Publishing</source>
        <translation>信息发布</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Drafted by</source>
        <translation>起草人</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Sent / delivered / read / failed</source>
        <translation>已发送 / 已送达 / 已读 / 失败</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>接收方</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>新建…</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>修改…</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>提交审批</translation>
    </message>
    <message>
        <source>Approve and publish</source>
        <translation>审批发布</translation>
    </message>
    <message>
        <source>Send back…</source>
        <translation>退回…</translation>
    </message>
    <message>
        <source>Withdraw…</source>
        <translation>撤回…</translation>
    </message>
    <message>
        <source>{count} notice(s)</source>
        <translation>共 {count} 条</translation>
    </message>
    <message>
        <source>Draft saved.</source>
        <translation>草稿已保存。</translation>
    </message>
    <message>
        <source>Submitted for approval.</source>
        <translation>已提交审批。</translation>
    </message>
    <message>
        <source>Approved and published.</source>
        <translation>已审批并发布。</translation>
    </message>
    <message>
        <source>Send back</source>
        <translation>退回</translation>
    </message>
    <message>
        <source>Sent back.</source>
        <translation>已退回。</translation>
    </message>
    <message>
        <source>Withdraw</source>
        <translation>撤回</translation>
    </message>
    <message>
        <source>Withdrawn.</source>
        <translation>已撤回。</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>No answer in time.</source>
        <translation>服务器未及时应答。</translation>
    </message>
    <message>
        <source>Instruction: {text}</source>
        <translation>应对措施：{text}</translation>
    </message>
    <message>
        <source>Reason: {text}</source>
        <translation>原因：{text}</translation>
    </message>
    <message>
        <source>A notice you drafted or submitted is approved by another supervisor.</source>
        <translation>您起草或提交的信息须由另一位领导审批（双人审核）。</translation>
    </message>
</context>
<context>
    <name>QuickFilterBar</name>
    <message>
        <source>Search number, title, place… (Ctrl+F)</source>
        <translation>搜索编号、标题、地点…（Ctrl+F）</translation>
    </message>
    <message>
        <source>All levels</source>
        <translation>全部级别</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Showing {shown} / {held}</source>
        <translation>显示 {shown} / {held}</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <source>All jurisdictions</source>
        <translation>全部辖区</translation>
    </message>
</context>
<context>
    <name>Recommendation</name>
    <message>
        <source>Team</source>
        <translation>队伍</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Equipment</source>
        <translation>装备物资</translation>
    </message>
    <message>
        <source>Expert</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>Shelter</source>
        <translation>避难场所</translation>
    </message>
    <message>
        <source>deployed</source>
        <translation>出动中</translation>
    </message>
    <message>
        <source>none in stock</source>
        <translation>无库存</translation>
    </message>
    <message>
        <source>busy</source>
        <translation>忙碌</translation>
    </message>
    <message>
        <source>full</source>
        <translation>已满</translation>
    </message>
    <message>
        <source>unavailable</source>
        <translation>不可用</translation>
    </message>
    <message>
        <source>matches: {}</source>
        <translation>匹配：{}</translation>
    </message>
    <message>
        <source>lacks: {}</source>
        <translation>缺：{}</translation>
    </message>
    <message>
        <source>{} places left</source>
        <translation>剩余 {} 个位置</translation>
    </message>
    <message>
        <source>no cover warning: {}</source>
        <translation>无覆盖警告：{}</translation>
    </message>
    <message>
        <source>position unknown</source>
        <translation>位置未知</translation>
    </message>
    <message>
        <source>from vehicle {}</source>
        <translation>按车辆 {} 定位</translation>
    </message>
    <message>
        <source>{} min</source>
        <translation>{} 分钟</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>ETA</source>
        <translation>预计到达</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Press Rank to rank the resources.</source>
        <translation>点击“推荐”对资源排序。</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>推荐</translation>
    </message>
    <message>
        <source>Ranking…</source>
        <translation>正在推荐…</translation>
    </message>
    <message>
        <source>Plan {plan}: needs {needs}</source>
        <translation>预案 {plan}：需要 {needs}</translation>
    </message>
    <message>
        <source>No plan matches this incident: ranked by travel time.</source>
        <translation>没有适用于本事件的预案：按到达时间排序。</translation>
    </message>
    <message>
        <source>No ranking: {}</source>
        <translation>无推荐：{}</translation>
    </message>
</context>
<context>
    <name>RecordsEditor</name>
    <message>
        <source>Add row</source>
        <translation>添加一行</translation>
    </message>
    <message>
        <source>Remove row</source>
        <translation>删除所选行</translation>
    </message>
</context>
<context>
    <name>Registry</name>
    <message>
        <source>Saved: {name}</source>
        <translation>已保存：{name}</translation>
    </message>
    <message>
        <source>Retired: {name}</source>
        <translation>已注销：{name}</translation>
    </message>
    <message>
        <source>Restored: {name}</source>
        <translation>已恢复：{name}</translation>
    </message>
    <message>
        <source>Enterprises</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Major hazard sources</source>
        <translation>重大危险源</translation>
    </message>
    <message>
        <source>Emergency teams</source>
        <translation>应急队伍</translation>
    </message>
    <message>
        <source>Equipment and supplies</source>
        <translation>装备物资</translation>
    </message>
    <message>
        <source>Shelters</source>
        <translation>避难场所</translation>
    </message>
    <message>
        <source>Experts</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>Protection targets</source>
        <translation>防护目标</translation>
    </message>
    <message>
        <source>Emergency plans</source>
        <translation>预案</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Jurisdiction</source>
        <translation>辖区</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>所属单位</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Latitude</source>
        <translation>纬度</translation>
    </message>
    <message>
        <source>Longitude</source>
        <translation>经度</translation>
    </message>
    <message>
        <source>Retired</source>
        <translation>已注销</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Unified social credit code</source>
        <translation>统一社会信用代码</translation>
    </message>
    <message>
        <source>Industry</source>
        <translation>行业</translation>
    </message>
    <message>
        <source>Risk grade</source>
        <translation>风险等级</translation>
    </message>
    <message>
        <source>Employees</source>
        <translation>从业人数</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>联系人</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>电话</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>职务</translation>
    </message>
    <message>
        <source>Grade</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Enterprise (code)</source>
        <translation>所属企业（编码）</translation>
    </message>
    <message>
        <source>Chemicals</source>
        <translation>危险化学品</translation>
    </message>
    <message>
        <source>UN number</source>
        <translation>UN编号</translation>
    </message>
    <message>
        <source>CAS number</source>
        <translation>CAS号</translation>
    </message>
    <message>
        <source>Quantity (t)</source>
        <translation>数量（吨）</translation>
    </message>
    <message>
        <source>Sensors</source>
        <translation>传感器</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Team type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>人数</translation>
    </message>
    <message>
        <source>Capabilities</source>
        <translation>能力</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Units (codes)</source>
        <translation>出动单元（编码）</translation>
    </message>
    <message>
        <source>Vehicles (terminal numbers)</source>
        <translation>车辆（终端号）</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>计量单位</translation>
    </message>
    <message>
        <source>Held by</source>
        <translation>存放/持有单位</translation>
    </message>
    <message>
        <source>Capacity (people)</source>
        <translation>容纳人数</translation>
    </message>
    <message>
        <source>Occupancy (people)</source>
        <translation>已安置人数</translation>
    </message>
    <message>
        <source>Area (m²)</source>
        <translation>面积（平方米）</translation>
    </message>
    <message>
        <source>Facilities</source>
        <translation>设施</translation>
    </message>
    <message>
        <source>Specialties</source>
        <translation>专业</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>工作单位</translation>
    </message>
    <message>
        <source>Professional title</source>
        <translation>职称</translation>
    </message>
    <message>
        <source>Availability</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Population</source>
        <translation>人数</translation>
    </message>
    <message>
        <source>Incident types (codes)</source>
        <translation>适用事件类型（编码）</translation>
    </message>
    <message>
        <source>Incident levels</source>
        <translation>适用事件级别</translation>
    </message>
    <message>
        <source>Response level</source>
        <translation>响应级别</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Checklist steps</source>
        <translation>处置步骤</translation>
    </message>
    <message>
        <source>Step no.</source>
        <translation>步骤号</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步骤</translation>
    </message>
    <message>
        <source>Within (min)</source>
        <translation>时限（分钟）</translation>
    </message>
    <message>
        <source>Resources required</source>
        <translation>所需资源</translation>
    </message>
    <message>
        <source>Capability</source>
        <translation>能力</translation>
    </message>
    <message>
        <source>Documents (attachment ids)</source>
        <translation>预案文件（附件编号）</translation>
    </message>
    <message>
        <source>Major risk (red)</source>
        <translation>重大风险（红）</translation>
    </message>
    <message>
        <source>Higher risk (orange)</source>
        <translation>较大风险（橙）</translation>
    </message>
    <message>
        <source>General risk (yellow)</source>
        <translation>一般风险（黄）</translation>
    </message>
    <message>
        <source>Low risk (blue)</source>
        <translation>低风险（蓝）</translation>
    </message>
    <message>
        <source>Standing by</source>
        <translation>待命</translation>
    </message>
    <message>
        <source>Deployed</source>
        <translation>出动中</translation>
    </message>
    <message>
        <source>Resting / unavailable</source>
        <translation>休整/不可用</translation>
    </message>
    <message>
        <source>Available</source>
        <translation>可联系</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>忙碌</translation>
    </message>
    <message>
        <source>Unavailable</source>
        <translation>不可联系</translation>
    </message>
    <message>
        <source>School</source>
        <translation>学校</translation>
    </message>
    <message>
        <source>Kindergarten</source>
        <translation>幼儿园</translation>
    </message>
    <message>
        <source>Hospital</source>
        <translation>医院</translation>
    </message>
    <message>
        <source>Nursing home</source>
        <translation>养老院</translation>
    </message>
    <message>
        <source>Residents&apos; area</source>
        <translation>居民区</translation>
    </message>
    <message>
        <source>Market / crowded place</source>
        <translation>商场/集贸市场</translation>
    </message>
    <message>
        <source>Government office</source>
        <translation>机关单位</translation>
    </message>
    <message>
        <source>Drinking-water source</source>
        <translation>饮用水源地</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Grade 1 (most dangerous)</source>
        <translation>一级（最危险）</translation>
    </message>
    <message>
        <source>Grade 2</source>
        <translation>二级</translation>
    </message>
    <message>
        <source>Grade 3</source>
        <translation>三级</translation>
    </message>
    <message>
        <source>Grade 4</source>
        <translation>四级</translation>
    </message>
    <message>
        <source>Level I</source>
        <translation>Ⅰ级</translation>
    </message>
    <message>
        <source>Level II</source>
        <translation>Ⅱ级</translation>
    </message>
    <message>
        <source>Level III</source>
        <translation>Ⅲ级</translation>
    </message>
    <message>
        <source>Level IV</source>
        <translation>Ⅳ级</translation>
    </message>
    <message>
        <source>Hazmat response</source>
        <translation>危化品处置</translation>
    </message>
    <message>
        <source>Rescue</source>
        <translation>抢险救援</translation>
    </message>
    <message>
        <source>Medical</source>
        <translation>医疗救护</translation>
    </message>
    <message>
        <source>Firefighting</source>
        <translation>灭火</translation>
    </message>
    <message>
        <source>Mine rescue</source>
        <translation>矿山救护</translation>
    </message>
    <message>
        <source>Water rescue</source>
        <translation>水域救援</translation>
    </message>
    <message>
        <source>Decontamination</source>
        <translation>洗消</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>No</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>Changed</source>
        <translation>修改</translation>
    </message>
    <message>
        <source>Restored</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>{field}: {before} → {after}</source>
        <translation>{field}：{before} → {after}</translation>
    </message>
    <message>
        <source>required</source>
        <translation>必填</translation>
    </message>
    <message>
        <source>not a number</source>
        <translation>不是数字</translation>
    </message>
    <message>
        <source>must be a whole number</source>
        <translation>须为整数</translation>
    </message>
    <message>
        <source>out of range</source>
        <translation>超出范围</translation>
    </message>
    <message>
        <source>only letters, digits and _ . : - (no spaces)</source>
        <translation>只能含字母、数字和 _ . : -（不含空格）</translation>
    </message>
    <message>
        <source>not a phone number</source>
        <translation>不是电话号码</translation>
    </message>
    <message>
        <source>not a valid unified social credit code (18 characters)</source>
        <translation>不是有效的统一社会信用代码（18位）</translation>
    </message>
    <message>
        <source>not one of the choices</source>
        <translation>不在可选范围内</translation>
    </message>
    <message>
        <source>too long</source>
        <translation>过长</translation>
    </message>
    <message>
        <source>too many entries</source>
        <translation>条目过多</translation>
    </message>
    <message>
        <source>give both latitude and longitude, or neither</source>
        <translation>经纬度须同时填写或同时留空</translation>
    </message>
    <message>
        <source>more than the capacity</source>
        <translation>超过容纳人数</translation>
    </message>
    <message>
        <source>not accepted</source>
        <translation>不被接受</translation>
    </message>
    <message>
        <source>Form</source>
        <translation>表单</translation>
    </message>
    <message>
        <source>{field}, row {row}</source>
        <translation>{field} 第 {row} 行</translation>
    </message>
    <message>
        <source>Someone else changed this item meanwhile; it was reloaded. Check and save again.</source>
        <translation>他人已修改此条目，已重新载入。请核对后再次保存。</translation>
    </message>
    <message>
        <source>Not found, or not in your area.</source>
        <translation>未找到，或不在您的辖区。</translation>
    </message>
    <message>
        <source>You may not change this item.</source>
        <translation>您无权修改此条目。</translation>
    </message>
    <message>
        <source>The server did not accept the item.</source>
        <translation>服务器未接受此条目。</translation>
    </message>
    <message>
        <source>Whole area</source>
        <translation>全域</translation>
    </message>
    <message>
        <source> [retired]</source>
        <translation>［已注销］</translation>
    </message>
</context>
<context>
    <name>RegistryEditDialog</name>
    <message>
        <source>Edit: {name}</source>
        <translation>编辑：{name}</translation>
    </message>
    <message>
        <source>New: {kind}</source>
        <translation>新建：{kind}</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Pick on map</source>
        <translation>地图选点</translation>
    </message>
    <message>
        <source>Why (kept in the history)</source>
        <translation>变更原因（记入历史）</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>One per line</source>
        <translation>每行一项</translation>
    </message>
    <message>
        <source>One per line; known capabilities: {names}</source>
        <translation>每行一项；已知能力：{names}</translation>
    </message>
</context>
<context>
    <name>RegistryPanel</name>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>操作人</translation>
    </message>
    <message>
        <source>What</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Changes</source>
        <translation>变更内容</translation>
    </message>
    <message>
        <source>Search code, name, address</source>
        <translation>搜索编码、名称、地址</translation>
    </message>
    <message>
        <source>Show retired</source>
        <translation>显示已注销</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>新建…</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
    <message>
        <source>Retire…</source>
        <translation>注销…</translation>
    </message>
    <message>
        <source>Show contacts…</source>
        <translation>查看联系方式…</translation>
    </message>
    <message>
        <source>Place on map</source>
        <translation>地图定位</translation>
    </message>
    <message>
        <source>Show on map</source>
        <translation>在地图上显示</translation>
    </message>
    <message>
        <source>All jurisdictions</source>
        <translation>全部辖区</translation>
    </message>
    <message>
        <source>Reloaded: version {version} by {who}. Check and save again.</source>
        <translation>已重新载入：第 {version} 版（{who} 修改）。请核对后再次保存。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>{shown} of {total} shown</source>
        <translation>显示 {shown} / 共 {total} 条</translation>
    </message>
    <message>
        <source>Not loaded: {reason}</source>
        <translation>未能读取：{reason}</translation>
    </message>
    <message>
        <source>Choose an item.</source>
        <translation>请选择一条台账。</translation>
    </message>
    <message>
        <source>Note: {note}</source>
        <translation>备注：{note}</translation>
    </message>
    <message>
        <source>not placed</source>
        <translation>未定位</translation>
    </message>
    <message>
        <source>Place: {place}</source>
        <translation>位置：{place}</translation>
    </message>
    <message>
        <source>Contacts in full:</source>
        <translation>完整联系方式：</translation>
    </message>
    <message>
        <source>Version {version}, {when} by {who}</source>
        <translation>第 {version} 版，{when}，{who}</translation>
    </message>
    <message>
        <source>Restore…</source>
        <translation>恢复…</translation>
    </message>
    <message>
        <source>Restore {name}</source>
        <translation>恢复 {name}</translation>
    </message>
    <message>
        <source>Retire {name}</source>
        <translation>注销 {name}</translation>
    </message>
    <message>
        <source>Why? (kept in the history)</source>
        <translation>原因（记入历史）：</translation>
    </message>
    <message>
        <source>Contacts of {name}</source>
        <translation>{name} 的联系方式</translation>
    </message>
    <message>
        <source>Why do you need the numbers? (recorded)</source>
        <translation>查看原因（将被记录）：</translation>
    </message>
    <message>
        <source>Placed on the map</source>
        <translation>地图定位</translation>
    </message>
</context>
<context>
    <name>Report</name>
    <message>
        <source>The place lies outside your area: report it to that area&apos;s officers.</source>
        <translation>该位置不在您的辖区内，请向所在辖区上报。</translation>
    </message>
    <message>
        <source>Your account may not report events.</source>
        <translation>您的账号无权上报事件。</translation>
    </message>
    <message>
        <source>You have reached the limit of reports for this hour: wait, or telephone the command centre.</source>
        <translation>本小时上报次数已达上限，请稍后再报，或致电指挥中心。</translation>
    </message>
    <message>
        <source>The report is incomplete or the event type is unknown.</source>
        <translation>上报内容不完整，或事件类型不存在。</translation>
    </message>
    <message>
        <source>Choose the event type.</source>
        <translation>请选择事件类型。</translation>
    </message>
    <message>
        <source>Give the place: an address, or a point on the map.</source>
        <translation>请填写地点：地址，或在地图上点选位置。</translation>
    </message>
    <message>
        <source>The place is longer than 200 characters.</source>
        <translation>地点超过 200 个字。</translation>
    </message>
    <message>
        <source>The description is longer than 4000 characters.</source>
        <translation>事件描述超过 4000 个字。</translation>
    </message>
    <message>
        <source>At most {count} photos go with a report.</source>
        <translation>一次上报最多附 {count} 张照片。</translation>
    </message>
    <message>
        <source>Only photos (JPEG, PNG, WebP) and PDF files can be attached.</source>
        <translation>只能添加照片（JPEG、PNG、WebP）或 PDF 文件。</translation>
    </message>
    <message>
        <source>no answer in time</source>
        <translation>服务器未及时应答</translation>
    </message>
</context>
<context>
    <name>ReportDialog</name>
    <message>
        <source>Report an event</source>
        <translation>事件上报</translation>
    </message>
    <message>
        <source>Address or landmark, e.g. 幸福村3组</source>
        <translation>地址或地标，如 幸福村3组</translation>
    </message>
    <message>
        <source>Pick on the map</source>
        <translation>地图选点</translation>
    </message>
    <message>
        <source>Address only</source>
        <translation>仅用地址</translation>
    </message>
    <message>
        <source>What happened, who is affected</source>
        <translation>发生了什么，涉及哪些人员</translation>
    </message>
    <message>
        <source>Add photos…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Remove photo</source>
        <translation>移除照片</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Event type:</source>
        <translation>事件类型：</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>Position:</source>
        <translation>位置：</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>事件描述：</translation>
    </message>
    <message>
        <source>Photos:</source>
        <translation>照片：</translation>
    </message>
    <message>
        <source>Click the place on the map; Esc cancels.</source>
        <translation>请在地图上点击事发位置；按 Esc 取消。</translation>
    </message>
    <message>
        <source>{lat:.5f}, {lon:.5f}</source>
        <translation>{lat:.5f}, {lon:.5f}</translation>
    </message>
    <message>
        <source>none (the address only)</source>
        <translation>无（仅用地址）</translation>
    </message>
    <message>
        <source>Sending the report…</source>
        <translation>正在上报…</translation>
    </message>
    <message>
        <source>Not reported: {reason}</source>
        <translation>未上报：{reason}</translation>
    </message>
    <message>
        <source>Reported: incident {incident_id}.</source>
        <translation>已上报：事件 {incident_id}。</translation>
    </message>
    <message>
        <source>Sending photo {number} of {count}: {name}</source>
        <translation>正在发送第 {number}/{count} 张照片：{name}</translation>
    </message>
    <message>
        <source>Photos of the report</source>
        <translation>上报现场照片</translation>
    </message>
    <message>
        <source>The photos were stored but not posted: {reason}</source>
        <translation>照片已保存，但未能发到事件消息：{reason}</translation>
    </message>
    <message>
        <source>{count} photo(s) sent.</source>
        <translation>已发送 {count} 张照片。</translation>
    </message>
    <message>
        <source>{name} was not sent: {reason}</source>
        <translation>{name} 未发送：{reason}</translation>
    </message>
    <message>
        <source>the server did not store it</source>
        <translation>服务器未保存</translation>
    </message>
</context>
<context>
    <name>ReportForm</name>
    <message>
        <source>Report a hidden danger</source>
        <translation>上报隐患</translation>
    </message>
    <message>
        <source>Set the deadline now</source>
        <translation>同时设定整改期限</translation>
    </message>
    <message>
        <source>Enterprise (code)</source>
        <translation>企业（编码）</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Grade</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>部位</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>隐患描述</translation>
    </message>
    <message>
        <source>Measures</source>
        <translation>整改措施</translation>
    </message>
    <message>
        <source>Person responsible</source>
        <translation>责任人</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>联系电话</translation>
    </message>
    <message>
        <source>Add photo…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Pictures (*.jpg *.jpeg *.png *.webp)</source>
        <translation>图片 (*.jpg *.jpeg *.png *.webp)</translation>
    </message>
    <message>
        <source>Give the enterprise&apos;s code.</source>
        <translation>请填写企业编码。</translation>
    </message>
    <message>
        <source>Give the place and a description.</source>
        <translation>请填写部位和隐患描述。</translation>
    </message>
</context>
<context>
    <name>RevealDialog</name>
    <message>
        <source>Reveal personal data: alarm {alarm_id}</source>
        <translation>查看个人信息：警情 {alarm_id}</translation>
    </message>
    <message>
        <source>The caller&apos;s details are shown in full for a short time. Your name, the time and your reason are recorded.</source>
        <translation>报警人信息将完整显示一小段时间。您的姓名、查看时间和理由将被记录。</translation>
    </message>
    <message>
        <source>Reason (required):</source>
        <translation>理由（必填）：</translation>
    </message>
    <message>
        <source>e.g. call the caller back to confirm the place</source>
        <translation>例如：回拨报警人核实地点</translation>
    </message>
    <message>
        <source>Reveal</source>
        <translation>查看</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>RosterPanel</name>
    <message>
        <source>Duty roster</source>
        <translation>值班表</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>No one is on the roster today.</source>
        <translation>今日值班表为空。</translation>
    </message>
</context>
<context>
    <name>ScaleBar</name>
    <message>
        <source>{n} km</source>
        <translation>{n} 公里</translation>
    </message>
    <message>
        <source>{n} m</source>
        <translation>{n} 米</translation>
    </message>
</context>
<context>
    <name>ScoreDialog</name>
    <message>
        <source>Export to Excel…</source>
        <translation>导出为 Excel…</translation>
    </message>
    <message>
        <source>Export to HTML…</source>
        <translation>导出为 HTML…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Cannot write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
    <message>
        <source>Saved to {path}.</source>
        <translation>已保存到 {path}。</translation>
    </message>
    <message>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <source>Web page (*.html)</source>
        <translation>网页 (*.html)</translation>
    </message>
    <message>
        <source>Export the score</source>
        <translation>导出评分</translation>
    </message>
</context>
<context>
    <name>SendTaskDialog</name>
    <message>
        <source>Send a task</source>
        <translation>派单</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Unit (code)</source>
        <translation>队伍（编码）</translation>
    </message>
    <message>
        <source>Grid level (jurisdiction code)</source>
        <translation>网格层级（辖区代码）</translation>
    </message>
    <message>
        <source>Send to:</source>
        <translation>派往：</translation>
    </message>
    <message>
        <source>Assignee:</source>
        <translation>承办方：</translation>
    </message>
    <message>
        <source>Instructions:</source>
        <translation>处置要求：</translation>
    </message>
    <message>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <source>as the type says</source>
        <translation>按事件类型</translation>
    </message>
    <message>
        <source>Ranking the resources…</source>
        <translation>正在推荐资源…</translation>
    </message>
    <message>
        <source>Recommended:</source>
        <translation>推荐：</translation>
    </message>
    <message>
        <source>Best first; choose one to send the task to it.</source>
        <translation>最优在前；点选一项即派单给它。</translation>
    </message>
    <message>
        <source>No team or unit to recommend.</source>
        <translation>没有可推荐的队伍或单位。</translation>
    </message>
    <message>
        <source>No ranking: {}</source>
        <translation>无推荐：{}</translation>
    </message>
</context>
<context>
    <name>SendTextDialog</name>
    <message>
        <source>Send text to {vehicle}</source>
        <translation>向 {vehicle} 下发文本</translation>
    </message>
    <message>
        <source>Message (at most 500 characters)</source>
        <translation>消息内容（最多 500 字）</translation>
    </message>
    <message>
        <source>Emergency</source>
        <translation>紧急</translation>
    </message>
    <message>
        <source>Read aloud (TTS)</source>
        <translation>语音播报（TTS）</translation>
    </message>
    <message>
        <source>Show on the terminal&apos;s display</source>
        <translation>终端屏幕显示</translation>
    </message>
</context>
<context>
    <name>SensorPicker</name>
    <message>
        <source>Search sensors…</source>
        <translation>搜索传感器…</translation>
    </message>
    <message>
        <source>Reload sensors</source>
        <translation>重新加载传感器</translation>
    </message>
    <message>
        <source>Other sensors</source>
        <translation>其他传感器</translation>
    </message>
</context>
<context>
    <name>SessionsDialog</name>
    <message>
        <source>Who is logged in</source>
        <translation>在线会话</translation>
    </message>
    <message>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>登录时间</translation>
    </message>
    <message>
        <source>Last seen</source>
        <translation>最近活动</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>过期时间</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source> (stale)</source>
        <translation>（可能已失效）</translation>
    </message>
    <message>
        <source>{count} open sessions</source>
        <translation>共 {count} 个在线会话</translation>
    </message>
</context>
<context>
    <name>Shortcuts</name>
    <message>
        <source>Acknowledge</source>
        <translation>接警</translation>
    </message>
    <message>
        <source>Dispatch…</source>
        <translation>派警…</translation>
    </message>
    <message>
        <source>Next unacknowledged alarm</source>
        <translation>下一条未接警情</translation>
    </message>
    <message>
        <source>Search the queue</source>
        <translation>搜索警情队列</translation>
    </message>
    <message>
        <source>Show the alarm on the map</source>
        <translation>地图定位所选警情</translation>
    </message>
    <message>
        <source>Mute / unmute the selected alarm</source>
        <translation>所选警情静音/取消静音</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>&amp;Work</source>
        <translation>处置(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>按键</translation>
    </message>
    <message>
        <source>Does</source>
        <translation>功能</translation>
    </message>
</context>
<context>
    <name>SiteDetailPane</name>
    <message>
        <source>The connection is down: this may be out of date.</source>
        <translation>连接已断开：以下信息可能已过时。</translation>
    </message>
    <message>
        <source>Click a hazard source or a team on the map.</source>
        <translation>在地图上点击危险源或救援队伍查看详情。</translation>
    </message>
    <message>
        <source>Enterprise:</source>
        <translation>企业：</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>地点：</translation>
    </message>
    <message>
        <source>Coordinates:</source>
        <translation>坐标：</translation>
    </message>
    <message>
        <source>Sensors</source>
        <translation>传感器</translation>
    </message>
    <message>
        <source>Sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>当前值</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>距今</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Open alarms</source>
        <translation>未结警情</translation>
    </message>
    <message>
        <source>Show the sensors&apos; trends</source>
        <translation>查看传感器趋势</translation>
    </message>
    <message>
        <source>Code:</source>
        <translation>编码：</translation>
    </message>
    <message>
        <source>Agency:</source>
        <translation>所属部门：</translation>
    </message>
    <message>
        <source>Jurisdiction:</source>
        <translation>辖区：</translation>
    </message>
    <message>
        <source>Base:</source>
        <translation>驻地：</translation>
    </message>
    <message>
        <source>Dispatched to</source>
        <translation>已派往警情</translation>
    </message>
    <message>
        <source>Centre on map</source>
        <translation>在地图上居中</translation>
    </message>
    <message>
        <source>Site detail</source>
        <translation>点位详情</translation>
    </message>
    <message>
        <source>&lt;b&gt;{name}&lt;/b&gt; · hazard source</source>
        <translation>&lt;b&gt;{name}&lt;/b&gt; · 危险源</translation>
    </message>
    <message>
        <source>{level} alarm No. {alarm_id} ({state})</source>
        <translation>{level}警情 {alarm_id} 号（{state}）</translation>
    </message>
    <message>
        <source>{level} threshold reached</source>
        <translation>已达{level}阈值</translation>
    </message>
    <message>
        <source>No reading yet</source>
        <translation>尚无读数</translation>
    </message>
    <message>
        <source>Silent</source>
        <translation>无数据上报</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>&lt;b&gt;{name}&lt;/b&gt; · team</source>
        <translation>&lt;b&gt;{name}&lt;/b&gt; · 救援队伍</translation>
    </message>
    <message>
        <source>Not known</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>SoundIndicator</name>
    <message>
        <source>Muted</source>
        <translation>已静音</translation>
    </message>
    <message>
        <source>The alarm sound is off for every alarm. Click to switch it back on.</source>
        <translation>所有警情的报警声已关闭。点击恢复声音。</translation>
    </message>
    <message>
        <source>No video or sound</source>
        <translation>视频和声音不可用</translation>
    </message>
    <message>
        <source>The multimedia module cannot load ({reason}): cameras cannot be watched and alarms use the system bell.</source>
        <translation>多媒体模块无法加载（{reason}）：无法观看摄像机，报警改用系统提示音。</translation>
    </message>
    <message>
        <source>No sound device</source>
        <translation>无声音设备</translation>
    </message>
    <message>
        <source>No sound device answers: alarms use the system bell.</source>
        <translation>没有可用的声音设备：报警改用系统提示音。</translation>
    </message>
</context>
<context>
    <name>StartExerciseDialog</name>
    <message>
        <source>Start an exercise</source>
        <translation>开始演练</translation>
    </message>
    <message>
        <source>{title} · {duration} · {devices} devices · {inputs} inputs</source>
        <translation>{title} · {duration} · {devices} 个设备 · {inputs} 条输入</translation>
    </message>
    <message>
        <source>Title (in every participant&apos;s banner)</source>
        <translation>标题（显示在每位参演人员的横幅上）</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>倍速</translation>
    </message>
    <message>
        <source>Participants</source>
        <translation>参演人员</translation>
    </message>
    <message>
        <source>more user names, separated by commas</source>
        <translation>其他用户名，以逗号分隔</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>At most {count} participants.</source>
        <translation>参演人员最多 {count} 人。</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <source>Data: live</source>
        <translation>数据：实时</translation>
    </message>
    <message>
        <source>Data: none yet</source>
        <translation>数据：暂无</translation>
    </message>
    <message>
        <source>Data: {age} old</source>
        <translation>数据：{age}前</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>Synchronising…</source>
        <translation>正在同步…</translation>
    </message>
    <message>
        <source>Connected to {server}</source>
        <translation>已连接 {server}</translation>
    </message>
    <message>
        <source>Login refused: {reason}</source>
        <translation>登录被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Session ended: {reason}</source>
        <translation>会话已结束：{reason}</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <source>Disconnected – data {age} old</source>
        <translation>已断开 – 数据 {age}前</translation>
    </message>
    <message>
        <source>Unacknowledged: {count}</source>
        <translation>未接警：{count}</translation>
    </message>
    <message>
        <source>Queued commands: {count}</source>
        <translation>待发送命令：{count}</translation>
    </message>
</context>
<context>
    <name>StepForm</name>
    <message>
        <source>Deadline</source>
        <translation>整改期限</translation>
    </message>
    <message>
        <source>Person responsible</source>
        <translation>责任人</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>联系电话</translation>
    </message>
    <message>
        <source>Measures</source>
        <translation>整改措施</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
</context>
<context>
    <name>SuperviseDialog</name>
    <message>
        <source>Supervise task {task_id}</source>
        <translation>督办任务 {task_id}</translation>
    </message>
    <message>
        <source>What is asked:</source>
        <translation>督办要求：</translation>
    </message>
    <message>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <source>no deadline</source>
        <translation>不限时</translation>
    </message>
    <message>
        <source>Answer within:</source>
        <translation>答复时限：</translation>
    </message>
</context>
<context>
    <name>TaskBadge</name>
    <message>
        <source>Overdue/escalated: {urgent}  Supervised: {supervised}</source>
        <translation>超时/升级：{urgent}  督办：{supervised}</translation>
    </message>
    <message>
        <source>Overdue: {overdue}, escalated to this desk: {escalated}, supervision to answer: {supervised}. Click for the list.</source>
        <translation>超时：{overdue}，升级到本席位：{escalated}，待答复督办：{supervised}。点击查看任务列表。</translation>
    </message>
</context>
<context>
    <name>TaskInbox</name>
    <message>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>承办方</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>时限</translation>
    </message>
    <message>
        <source>Escalated to</source>
        <translation>已升级至</translation>
    </message>
    <message>
        <source>Supervision</source>
        <translation>督办</translation>
    </message>
    <message>
        <source>open</source>
        <translation>待答复</translation>
    </message>
</context>
<context>
    <name>TrackReplayPanel</name>
    <message>
        <source>Vehicle</source>
        <translation>车辆</translation>
    </message>
    <message>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <source>To</source>
        <translation>至</translation>
    </message>
    <message>
        <source>Speed limit</source>
        <translation>限速</translation>
    </message>
    <message>
        <source>Load track</source>
        <translation>加载轨迹</translation>
    </message>
    <message>
        <source>Longitude (°)</source>
        <translation>经度（°）</translation>
    </message>
    <message>
        <source>Latitude (°)</source>
        <translation>纬度（°）</translation>
    </message>
    <message>
        <source>Step back</source>
        <translation>后退一步</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Step forward</source>
        <translation>前进一步</translation>
    </message>
    <message>
        <source>Export GPX…</source>
        <translation>导出 GPX…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Pick a vehicle and a time range.</source>
        <translation>请选择车辆和时间范围。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <source>No positions in this range.</source>
        <translation>该时间范围内没有定位数据。</translation>
    </message>
    <message>
        <source>{distance:.2f} km · moving {moving} · stopped {stopped} · {stops} stops · {overspeed} overspeed segments · top speed {top:.0f} km/h</source>
        <translation>{distance:.2f} 公里 · 行驶 {moving} · 停车 {stopped} · 停车点 {stops} 处 · 超速 {overspeed} 段 · 最高 {top:.0f} km/h</translation>
    </message>
    <message>
        <source>(thinned out by the server)</source>
        <translation>（服务器已抽稀）</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>{time} · {speed:.0f} km/h · fix {index}/{count}</source>
        <translation>{time} · {speed:.0f} km/h · 第 {index}/{count} 个定位点</translation>
    </message>
    <message>
        <source>Export track</source>
        <translation>导出轨迹</translation>
    </message>
    <message>
        <source>GPX tracks (*.gpx)</source>
        <translation>GPX 轨迹 (*.gpx)</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
</context>
<context>
    <name>TrendsPanel</name>
    <message>
        <source>Follow live</source>
        <translation>跟随实时</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <source>Last value</source>
        <translation>最新值</translation>
    </message>
    <message>
        <source>Last reading</source>
        <translation>最近读数时间</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>时长</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Export trend image</source>
        <translation>导出趋势图</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <source>Export trend data</source>
        <translation>导出趋势数据</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>{rows} rows exported.</source>
        <translation>已导出 {rows} 行。</translation>
    </message>
</context>
<context>
    <name>TypeCodesPicker</name>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Choose an incident type</source>
        <translation>选择事件类型</translation>
    </message>
</context>
<context>
    <name>UrgentDetail</name>
    <message>
        <source>Most urgent unacknowledged alarm</source>
        <translation>最紧急未确认警情</translation>
    </message>
</context>
<context>
    <name>VehicleCommandDialog</name>
    <message>
        <source>Vehicle command – {vehicle}</source>
        <translation>车辆指令 – {vehicle}</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Show on map</source>
        <translation>在地图上显示</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>The terminal reports where it is now.</source>
        <translation>终端立即上报当前位置。</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Report every</source>
        <translation>上报间隔</translation>
    </message>
    <message>
        <source>For</source>
        <translation>持续</translation>
    </message>
    <message>
        <source>Number the terminal calls</source>
        <translation>终端回拨的号码</translation>
    </message>
    <message>
        <source>Listen in (监听, supervisors, confirmed)</source>
        <translation>监听（仅值班长，需二次确认）</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>电话</translation>
    </message>
    <message>
        <source>Lock the doors</source>
        <translation>车门加锁</translation>
    </message>
    <message>
        <source>Unlock the doors</source>
        <translation>车门解锁</translation>
    </message>
    <message>
        <source>Doors</source>
        <translation>车门</translation>
    </message>
    <message>
        <source>Parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>A wrong server address or port cuts the terminal off.</source>
        <translation>服务器地址或端口设错，终端将失联。</translation>
    </message>
    <message>
        <source>All parameters</source>
        <translation>全部参数</translation>
    </message>
    <message>
        <source>Enter the number to call: 3 to 20 digits.</source>
        <translation>请输入回拨号码：3 至 20 位数字。</translation>
    </message>
    <message>
        <source>The value must be a whole number.</source>
        <translation>参数值必须是整数。</translation>
    </message>
    <message>
        <source>Tick the parameters to read, or All.</source>
        <translation>请勾选要查询的参数，或选择全部参数。</translation>
    </message>
    <message>
        <source>Sending “{what}” to {vehicle}…</source>
        <translation>正在向 {vehicle} 发送“{what}”…</translation>
    </message>
    <message>
        <source>Sending the confirmed order…</source>
        <translation>正在发送已确认的指令…</translation>
    </message>
    <message>
        <source>The order was refused: {reason}</source>
        <translation>指令被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Confirm the vehicle command</source>
        <translation>确认车辆指令</translation>
    </message>
    <message>
        <source>Send to {vehicle}:
{what}

By: {user}
This confirmation is valid until {until}.</source>
        <translation>发送给 {vehicle}：
{what}

操作人：{user}
本次确认在 {until} 前有效。</translation>
    </message>
    <message>
        <source>Not sent: the order was not confirmed.</source>
        <translation>未发送：指令未确认。</translation>
    </message>
    <message>
        <source>{vehicle} – {what}: {outcome}</source>
        <translation>{vehicle} – {what}：{outcome}</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Reported at</source>
        <translation>上报时间</translation>
    </message>
    <message>
        <source>locked</source>
        <translation>已加锁</translation>
    </message>
    <message>
        <source>unlocked</source>
        <translation>已解锁</translation>
    </message>
</context>
<context>
    <name>VehicleCommands</name>
    <message>
        <source>Query position</source>
        <translation>位置查询</translation>
    </message>
    <message>
        <source>Temporary tracking</source>
        <translation>临时位置跟踪</translation>
    </message>
    <message>
        <source>Call back / listen</source>
        <translation>电话回拨 / 监听</translation>
    </message>
    <message>
        <source>Door control</source>
        <translation>车门控制</translation>
    </message>
    <message>
        <source>Set parameters</source>
        <translation>设置终端参数</translation>
    </message>
    <message>
        <source>Query parameters</source>
        <translation>查询终端参数</translation>
    </message>
    <message>
        <source>Heartbeat interval (s)</source>
        <translation>心跳间隔（秒）</translation>
    </message>
    <message>
        <source>Main server address</source>
        <translation>主服务器地址</translation>
    </message>
    <message>
        <source>Server TCP port</source>
        <translation>服务器 TCP 端口</translation>
    </message>
    <message>
        <source>Report interval while asleep (s)</source>
        <translation>休眠时汇报间隔（秒）</translation>
    </message>
    <message>
        <source>Default report interval (s)</source>
        <translation>缺省汇报间隔（秒）</translation>
    </message>
    <message>
        <source>Maximum speed (km/h)</source>
        <translation>最高速度（km/h）</translation>
    </message>
    <message>
        <source>Overspeed duration (s)</source>
        <translation>超速持续时间（秒）</translation>
    </message>
    <message>
        <source>Odometer (0.1 km)</source>
        <translation>里程表读数（0.1 km）</translation>
    </message>
    <message>
        <source>Plate</source>
        <translation>车牌号</translation>
    </message>
    <message>
        <source>Plate colour</source>
        <translation>车牌颜色</translation>
    </message>
    <message>
        <source>Parameter 0x{id}</source>
        <translation>参数 0x{id}</translation>
    </message>
    <message>
        <source>Waiting for confirmation</source>
        <translation>等待二次确认</translation>
    </message>
    <message>
        <source>Answered</source>
        <translation>终端已应答</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>No answer in time (the order may have arrived)</source>
        <translation>终端未及时应答（指令可能已送达）</translation>
    </message>
    <message>
        <source>success</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>failure</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>message error</source>
        <translation>消息有误</translation>
    </message>
    <message>
        <source>not supported by the terminal</source>
        <translation>终端不支持</translation>
    </message>
    <message>
        <source>unreadable answer</source>
        <translation>应答无法解析</translation>
    </message>
    <message>
        <source>connection lost before the answer (it may have been carried out)</source>
        <translation>应答前连接中断（指令可能已执行）</translation>
    </message>
    <message>
        <source>Urgent text: {text}</source>
        <translation>紧急文字信息：{text}</translation>
    </message>
    <message>
        <source>Text: {text}</source>
        <translation>文字信息：{text}</translation>
    </message>
    <message>
        <source>Track every {interval} s for {duration} s</source>
        <translation>每 {interval} 秒上报一次，持续 {duration} 秒</translation>
    </message>
    <message>
        <source>Listen in from {phone}</source>
        <translation>由 {phone} 监听</translation>
    </message>
    <message>
        <source>Call back {phone}</source>
        <translation>回拨 {phone}</translation>
    </message>
    <message>
        <source>Lock the doors</source>
        <translation>车门加锁</translation>
    </message>
    <message>
        <source>Unlock the doors</source>
        <translation>车门解锁</translation>
    </message>
    <message>
        <source>Set {items}</source>
        <translation>设置 {items}</translation>
    </message>
    <message>
        <source>Query {items}</source>
        <translation>查询 {items}</translation>
    </message>
    <message>
        <source>Query all parameters</source>
        <translation>查询全部参数</translation>
    </message>
</context>
<context>
    <name>VehicleListPanel</name>
    <message>
        <source>Plate, name or company…</source>
        <translation>车牌、名称或企业…</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Moving</source>
        <translation>行驶</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>停车</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Follow on map</source>
        <translation>地图跟踪</translation>
    </message>
    <message>
        <source>Send text…</source>
        <translation>下发文本…</translation>
    </message>
    <message>
        <source>Replay track…</source>
        <translation>轨迹回放…</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Sending text to {vehicle}…</source>
        <translation>正在向 {vehicle} 下发文本…</translation>
    </message>
    <message>
        <source>{vehicle} acknowledged the text.</source>
        <translation>{vehicle} 已确认收到文本。</translation>
    </message>
    <message>
        <source>Text sent to {vehicle}; the terminal did not acknowledge it.</source>
        <translation>文本已发往 {vehicle}，终端未确认。</translation>
    </message>
    <message>
        <source>Text to {vehicle} failed: {reason}</source>
        <translation>向 {vehicle} 下发文本失败：{reason}</translation>
    </message>
    <message>
        <source>Vehicle command…</source>
        <translation>车辆指令…</translation>
    </message>
</context>
<context>
    <name>VehicleTableModel</name>
    <message>
        <source>Plate</source>
        <translation>车牌</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>km/h</source>
        <translation>km/h</translation>
    </message>
    <message>
        <source>Last report</source>
        <translation>最后上报</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>时长</translation>
    </message>
</context>
<context>
    <name>Vehicles</name>
    <message>
        <source>Alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Moving</source>
        <translation>行驶</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>停车</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>WallCounters</name>
    <message>
        <source>Unacknowledged {count}</source>
        <translation>未接警 {count}</translation>
    </message>
</context>
<context>
    <name>WallMode</name>
    <message>
        <source>DutyDesk – wall display</source>
        <translation>值班台 – 大屏显示</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>WarningPanel</name>
    <message>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Close…</source>
        <translation>关闭…</translation>
    </message>
    <message>
        <source>Show ended</source>
        <translation>显示已结束</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Hazard source / sensor</source>
        <translation>危险源 / 传感器</translation>
    </message>
    <message>
        <source>Predicted</source>
        <translation>预计时间</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>持续</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Close warning</source>
        <translation>关闭预警</translation>
    </message>
    <message>
        <source>Why is it closed while it still holds?</source>
        <translation>预警条件仍然存在，关闭原因：</translation>
    </message>
</context>
<context>
    <name>WindowWarnings</name>
    <message>
        <source>Early warnings</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>&amp;Warnings</source>
        <translation>预警(&amp;W)</translation>
    </message>
    <message>
        <source>Import weather warning (CAP)…</source>
        <translation>导入气象预警（CAP）…</translation>
    </message>
    <message>
        <source>Warnings: {count}</source>
        <translation>预警 {count}</translation>
    </message>
    <message>
        <source>Cannot read {path}: {reason}</source>
        <translation>无法读取 {path}：{reason}</translation>
    </message>
    <message>
        <source>Import weather warning</source>
        <translation>导入气象预警</translation>
    </message>
    <message>
        <source>CAP alerts (*.xml)</source>
        <translation>CAP 预警 (*.xml)</translation>
    </message>
</context>
<context>
    <name>_Form</name>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
</TS>
